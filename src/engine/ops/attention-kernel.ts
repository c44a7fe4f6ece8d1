// The attention kernel of shaders/attention.wgsl emitted from TypeScript with every loop over a
// thread's registers unrolled: its queries, scores, running max and sum and output accumulators
// are named scalars (score_1_0, acc_2_1, …) and every index into them is a constant. A private
// array indexed by a loop the driver does not unroll goes to local memory (8x slower on an H100,
// README "Benchmarks"); here there is none. Only loops over workgroup memory and over key tiles
// remain. The arithmetic and its order per accumulator are those of attention.wgsl, so the same
// tile shape gives the same bits.
//
// What only this kernel offers: DIM_CHUNK 64 (fewer barriers per key tile), prefetch (the next
// q/k chunk is read from global memory into registers before the current one's dot products, so
// its latency hides behind them), and f16 operands in workgroup memory (half the staging traffic;
// dot products, softmax and accumulators stay f32; needs shader-f16).

import type { ShaderSource } from '../gpu/kernels';

export interface AttentionKernelShape {
  headDim: number;
  queryTile: number;
  keyTile: number;
  workgroup: number;
  rowThreads: number;
  dimChunk: number;
  valueChunk: number;
  rowReduction: 'workgroup' | 'subgroup';
  prefetch: boolean;
  operands: 'f32' | 'f16';
}

const COMPONENTS = ['x', 'y', 'z', 'w'];

/** `f(i)` for i = 0 … count − 1, one per line. */
const each = (count: number, f: (i: number) => string) => Array.from({ length: count }, (_, i) => f(i)).join('\n');

/** The generated kernel (entry point `attention`), assembled after attention-common.wgsl. */
export function generatedAttentionKernel(shape: AttentionKernelShape): ShaderSource {
  const k = counts(shape);
  const slots = (f: (s: number) => string) => each(k.queriesPerThread, f);
  const keys = (f: (j: number) => string) => each(k.keysPerThread, f);
  const outputs = (f: (v: number) => string) => each(k.outputVec4sPerThread, f);
  const partials = shape.operands === 'f16' ? 'row_partials' : 'stage';
  const inTile = (s: number) => `row_group + ROW_GROUPS * ${s}u`;

  const loadChunk = (chunk: string) => `{
        let column = head_column + (${chunk}) * DIM_CHUNK + 4u * (lane % CHUNK_VEC4S);
${each(k.queryLoads, (l) => `        next_q_${l} = vec4<f32>();
        if (staged_row_${l} != NO_ROW) {
          next_q_${l} = query4(staged_row_${l}, column) * params.scale_log2;
        }`)}
${each(k.keyLoads, (l) => `        next_k_${l} = vec4<f32>();
        if (tile_start + (lane + WORKGROUP * ${l}u) / CHUNK_VEC4S < end) {
          next_k_${l} = key4(label, tile_start + (lane + WORKGROUP * ${l}u) / CHUNK_VEC4S, column);
        }`)}
      }`;
  const stageChunk = `
${each(k.queryLoads, (l) => `        stage[swizzled((lane + WORKGROUP * ${l}u) / CHUNK_VEC4S, lane % CHUNK_VEC4S, CHUNK_VEC4S)] = vec4<StageScalar>(next_q_${l});`)}
${each(k.keyLoads, (l) => `        stage[swizzled(QUERY_TILE + (lane + WORKGROUP * ${l}u) / CHUNK_VEC4S, lane % CHUNK_VEC4S, CHUNK_VEC4S)] = vec4<StageScalar>(next_k_${l});`)}`;
  const dotProducts = each(shape.dimChunk / 4, (c) => `        {
${slots((s) => `          let q_${s} = vec4<f32>(stage[swizzled(${inTile(s)}, ${c}u, CHUNK_VEC4S)]);`)}
${keys((j) => `          let k_${j} = vec4<f32>(stage[swizzled(QUERY_TILE + tx + ROW_THREADS * ${j}u, ${c}u, CHUNK_VEC4S)]);
${slots((s) => `          score_${s}_${j} += dot(q_${s}, k_${j});`)}`)}
        }`);

  const scores = `
      // Scores of this tile's keys: q·k over DIM_CHUNK dims at a time, staged in workgroup memory.
${slots((s) => keys((j) => `      var score_${s}_${j} = 0.0;`))}
${shape.prefetch ? `      ${loadChunk('0u')}` : ''}
      for (var chunk = 0u; chunk < HEAD_DIM / DIM_CHUNK; chunk++) {
${shape.prefetch ? '' : `      ${loadChunk('chunk')}`}
${stageChunk}
        workgroupBarrier();
${shape.prefetch ? `        if (chunk + 1u < HEAD_DIM / DIM_CHUNK) ${loadChunk('chunk + 1u')}` : ''}
${dotProducts}
        workgroupBarrier();
      }`;

  const tileMaxima =
    shape.rowReduction === 'subgroup'
      ? `${slots((s) => `      var tile_max_${s} = lane_max_${s};`)}
${each(Math.log2(shape.rowThreads), (b) => slots((s) => `      tile_max_${s} = max(tile_max_${s}, subgroupShuffleXor(tile_max_${s}, ${1 << b}u));`))}`
      : `${publish('lane_max')}
${slots((s) => `      var tile_max_${s}: f32;
      {
        var m = vec4<f32>(MASKED);
${each(shape.rowThreads / 4, (v) => `        m = max(m, ${partials}[(${inTile(s)}) * ROW_THREADS / 4u + ${v}u]);`)}
        tile_max_${s} = max(max(m.x, m.y), max(m.z, m.w));
      }`)}`;

  const softmax = `
      // Masks (and biases) the scores, folds them into the running max and sum, publishes the probabilities.
${slots((s) => `      var lane_max_${s} = MASKED;
${keys((j) => `      {
        let key = tile_start + tx + ROW_THREADS * ${j}u;
        let visible = key_visible(row_${s}, label_${s}, label, key, end);
        var score = score_${s}_${j};
        if (params.position_biased != 0u && visible && label == OWN_KEYS) {
          score += position_bias_log2(head, row_${s}, key);
        }
        score_${s}_${j} = select(MASKED, score, visible);
        lane_max_${s} = max(lane_max_${s}, score_${s}_${j});
      }`)}`)}
${tileMaxima}
${slots((s) => `      {
        let new_max = max(max_${s}, tile_max_${s});
        let correction = exp2(max_${s} - new_max);
        max_${s} = new_max;
        sum_${s} *= correction;
${outputs((v) => `        acc_${s}_${v} *= correction;`)}
${keys((j) => `        {
          let score = score_${s}_${j};
          let p = select(0.0, exp2(score - new_max), score != MASKED);
          sum_${s} += p;
          let key = tx + ROW_THREADS * ${j}u;
          probabilities[swizzled(${inTile(s)}, key / 4u, KEY_TILE_VEC4S)][key % 4u] = p;
        }`)}
      }`)}
      workgroupBarrier();`;

  const values = `
      // accumulators += probabilities · v, VALUE_CHUNK keys of v staged at a time.
      for (var first_key = 0u; first_key < KEY_TILE && tile_start + first_key < end; first_key += VALUE_CHUNK) {
${each(k.valueLoads, (l) => `        {
          let unit = lane + WORKGROUP * ${l}u;
          let key = tile_start + first_key + unit / HEAD_VEC4S;
          var v = vec4<f32>();
          if (key < end) {
            v = value4(label, key, head_column + 4u * (unit % HEAD_VEC4S));
          }
          stage[unit] = vec4<StageScalar>(v);
        }`)}
        workgroupBarrier();
${each(shape.valueChunk / 4, (q) => `        {
${slots((s) => `          let p_${s} = probabilities[swizzled(${inTile(s)}, first_key / 4u + ${q}u, KEY_TILE_VEC4S)];`)}
${each(4, (c) => outputs((v) => `          {
            let value = vec4<f32>(stage[${4 * q + c}u * HEAD_VEC4S + tx + ROW_THREADS * ${v}u]);
${slots((s) => `            acc_${s}_${v} = fma(vec4<f32>(p_${s}.${COMPONENTS[c]}), value, acc_${s}_${v});`)}
          }`))}
        }`)}
        workgroupBarrier();
      }`;

  const rowSums =
    shape.rowReduction === 'subgroup'
      ? `${slots((s) => `  var total_${s} = sum_${s};`)}
${each(Math.log2(shape.rowThreads), (b) => slots((s) => `  total_${s} += subgroupShuffleXor(total_${s}, ${1 << b}u);`))}`
      : `${publish('sum').replace(/^ {6}/gm, '  ')}
${slots((s) => `  var total_${s} = 0.0;
${each(shape.rowThreads / 4, (v) => `  {
    let four = ${partials}[(${inTile(s)}) * ROW_THREADS / 4u + ${v}u];
    total_${s} += (four.x + four.y) + (four.z + four.w);
  }`)}`)}`;

  function publish(name: string): string {
    return `${slots((s) => `      {
        let i = (${inTile(s)}) * ROW_THREADS + tx;
        ${partials}[i / 4u][i % 4u] = ${name}_${s};
      }`)}
      workgroupBarrier();`;
  }

  const code = `${shape.operands === 'f16' ? `// Row-group partials in f32 (the staging space holds f16).
var<workgroup> row_partials: array<vec4<f32>, QUERY_TILE * ROW_THREADS / 4u>;
` : ''}
@compute @workgroup_size(WORKGROUP)
fn attention(@builtin(workgroup_id) workgroup: vec3<u32>, @builtin(local_invocation_index) lane: u32) {
  let tile_first = workgroup.x * QUERY_TILE;
  let tile_last = min(tile_first + QUERY_TILE, params.query_count) - 1u;
  let tx = lane % ROW_THREADS;
  let row_group = lane / ROW_THREADS;
  let head = workgroup.y;
  let head_column = head * HEAD_DIM;
  // The queries this thread accumulates (row NO_ROW past the end) and their online softmax state.
${slots((s) => `  let position_${s} = tile_first + ${inTile(s)};
  let row_${s} = select(NO_ROW, row_at(position_${s}), position_${s} < params.query_count);
  let label_${s} = select(OWN_KEYS, label_at(position_${s}), position_${s} < params.query_count);
  var max_${s} = MASKED;
  var sum_${s} = 0.0;
${outputs((v) => `  var acc_${s}_${v} = vec4<f32>();`)}`)}
  // The query rows this thread stages (a different set), and its share of a q/k chunk.
${each(k.queryLoads, (l) => `  let staged_position_${l} = tile_first + (lane + WORKGROUP * ${l}u) / CHUNK_VEC4S;
  let staged_row_${l} = select(NO_ROW, row_at(staged_position_${l}), staged_position_${l} < params.query_count);
  var next_q_${l} = vec4<f32>();`)}
${each(k.keyLoads, (l) => `  var next_k_${l} = vec4<f32>();`)}
  var own_end = params.key_count;
  if (params.causal != 0u) {
    own_end = min(own_end, tile_last + 1u);
  }
  // Labels ascend along the processing order, so the tile's first and last query bound them.
  let first_label = label_at(tile_first);
  let last_label = label_at(tile_last);
  for (var label = OWN_KEYS; label <= BACKGROUND; label++) {
    var begin = 0u;
    var end = own_end;
    if (label == FOREGROUND) {
      begin = params.foreground_begin;
      end = select(begin, params.foreground_end, first_label <= FOREGROUND && last_label >= FOREGROUND);
    }
    if (label == BACKGROUND) {
      begin = params.background_begin;
      end = select(begin, params.background_end, last_label == BACKGROUND);
    }
    for (var tile_start = begin; tile_start < end; tile_start += KEY_TILE) {
${scores}
${softmax}
${values}
    }
  }
${rowSums}
${slots((s) => `  if (row_${s} != NO_ROW) {
    // A query that saw no key at all (no own keys, no extras) gets zeros, not 0/0.
    let inverse_sum = select(0.0, 1.0 / total_${s}, total_${s} > 0.0);
${outputs((v) => `    {
      let out = acc_${s}_${v} * inverse_sum;
      let i = params.output_offset + row_${s} * params.output_stride + head_column + 4u * (tx + ROW_THREADS * ${v}u);
      output[i] = out.x;
      output[i + 1u] = out.y;
      output[i + 2u] = out.z;
      output[i + 3u] = out.w;
    }`)}
  }`)}
}
`;
  return { file: `generated: attention kernel (src/engine/ops/attention-kernel.ts, ${describeKernel(shape)})`, code: code.replace(/\n{3,}/g, '\n\n') };
}

/** Registers and loads per thread of a shape. */
function counts({ headDim, queryTile, keyTile, workgroup, rowThreads, dimChunk, valueChunk }: AttentionKernelShape) {
  const rowGroups = workgroup / rowThreads;
  return {
    queriesPerThread: queryTile / rowGroups,
    keysPerThread: keyTile / rowThreads,
    outputVec4sPerThread: headDim / 4 / rowThreads,
    queryLoads: (queryTile * dimChunk) / 4 / workgroup,
    keyLoads: (keyTile * dimChunk) / 4 / workgroup,
    valueLoads: (valueChunk * headDim) / 4 / workgroup,
  };
}

export function describeKernel(shape: AttentionKernelShape): string {
  const { queryTile, keyTile, workgroup, rowThreads, dimChunk, rowReduction, prefetch, operands } = shape;
  return `${queryTile}x${keyTile}/${workgroup}, rows of ${rowThreads}, ${dimChunk} dims per chunk, ${rowReduction} reductions${prefetch ? ', prefetch' : ''}, ${operands} operands`;
}
