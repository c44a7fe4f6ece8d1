// Embedding gather (src/engine/ops/embedding.ts): output[t, :] = table[ids[t], :], the table a
// weight in the planes of src/engine/ops/weights.ts, decoded on the fly by quant.wgsl, so that
// T5's 32128 x 4096 table stays quantized on the GPU. Assembled after quant.wgsl and
// weight-planes.wgsl. One thread per 8-value group of an output row. A table split into row
// parts is gathered one part per dispatch: each dispatch writes the tokens whose id falls in its
// part, and the last part also writes the zero rows of ids past the end of the table.

override WEIGHT_TYPE: u32;

struct EmbeddingParams {
  tokens: u32,
  // columns of the table (and of the output)
  cols: u32,
  // element offset of the ids [tokens] (u32) in their buffer
  ids_offset: u32,
  // MatrixView of the output [tokens, cols]
  output_offset: u32,
  output_stride: u32,
  // table rows [first_row, first_row + rows) are in this dispatch's part
  first_row: u32,
  // 1 for the last part
  last_part: u32,
  // this part's planes (WeightPlanes)
  rows: u32,
  row_words: u32,
  high_bits_base: u32,
  scales_base: u32,
  scale_row_words: u32,
  groups_per_row: u32,
  // threads per row of the folded grid
  grid_stride: u32,
}

@group(0) @binding(0) var<storage, read> weights: array<vec4<u32>>;
@group(0) @binding(1) var<storage, read> ids: array<u32>;
@group(0) @binding(2) var<storage, read_write> output: array<f32>;
@group(0) @binding(3) var<uniform> params: EmbeddingParams;

@compute @workgroup_size(64)
fn gather_embeddings(@builtin(global_invocation_id) id: vec3<u32>) {
  let index = id.y * params.grid_stride + id.x;
  if (index >= params.tokens * params.groups_per_row) {
    return;
  }
  let token = index / params.groups_per_row;
  let group = index % params.groups_per_row;
  let row = ids[params.ids_offset + token];
  if (row < params.first_row) {
    return;
  }
  let part_row = row - params.first_row;
  let past_table = part_row >= params.rows;
  if (past_table && params.last_part == 0u) {
    return;
  }
  let planes = WeightPlanes(params.rows, params.row_words, params.high_bits_base, params.scales_base, params.scale_row_words, params.groups_per_row);
  var values = array<vec4<f32>, 2>(vec4<f32>(), vec4<f32>());
  if (!past_table) {
    values = decode_group(WEIGHT_TYPE, read_weight_group(planes, part_row, group));
  }
  let row_start = params.output_offset + token * params.output_stride;
  for (var run = 0u; run < 2u; run++) {
    let column = run_column(WEIGHT_TYPE, group, run);
    for (var c = 0u; c < 4u; c++) {
      if (column + c < params.cols) {
        output[row_start + column + c] = values[run][c];
      }
    }
  }
}
