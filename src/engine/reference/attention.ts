// Float64 reference of multi-head attention as FLUX, CharaConsist and the text encoders use it
// (spec/flux.md §1.3, §4, spec/characonsist-official.md §7): per head, softmax(scale · q·kᵀ + bias)
// · v over one joint set of keys: all own keys, plus the "extra" keys whose label equals the
// query's label (labels 1 = foreground, 2 = background; a query labelled 0 — a text token — sees
// no extras). The optional bias (T5's relative-position bias) applies to own keys. Matrices are
// dense row-major [rows, heads·headDim], heads concatenated.

export interface AttentionReferenceExtras {
  keys: ArrayLike<number>;
  values: ArrayLike<number>;
  /** [extras]: 1 or 2 */
  keyLabels: ArrayLike<number>;
  /** [queries]: 0, 1 or 2 */
  queryLabels: ArrayLike<number>;
}

export interface AttentionReferenceInput {
  queries: ArrayLike<number>;
  keys: ArrayLike<number>;
  values: ArrayLike<number>;
  heads: number;
  headDim: number;
  scale: number;
  /** Query i sees own keys 0..i only (requires as many queries as keys). */
  causal?: boolean;
  extras?: AttentionReferenceExtras;
  /** Added to the scaled score of own key `key` for query `query` in head `head`. */
  positionBias?: (head: number, query: number, key: number) => number;
}

interface VisibleKey {
  keys: ArrayLike<number>;
  values: ArrayLike<number>;
  row: number;
  /** one of the own keys (not an extra) */
  own: boolean;
}

/** Returns the attention output [queries, heads·headDim]; a query that sees no key gets zeros. */
export function attentionReference(input: AttentionReferenceInput): Float64Array {
  const width = input.heads * input.headDim;
  const queryCount = input.queries.length / width;
  const out = new Float64Array(queryCount * width);
  for (let query = 0; query < queryCount; query++) {
    const visible = visibleKeys(input, query);
    for (let head = 0; head < input.heads; head++) attendOneHead(input, visible, query, head, out);
  }
  return out;
}

function visibleKeys(input: AttentionReferenceInput, query: number): VisibleKey[] {
  const width = input.heads * input.headDim;
  const ownCount = input.causal ? Math.min(query + 1, input.keys.length / width) : input.keys.length / width;
  const visible: VisibleKey[] = Array.from({ length: ownCount }, (_, row) => ({ keys: input.keys, values: input.values, row, own: true }));
  const extras = input.extras;
  if (extras && extras.queryLabels[query] !== 0) {
    for (let row = 0; row < extras.keyLabels.length; row++) {
      if (extras.keyLabels[row] === extras.queryLabels[query]) visible.push({ keys: extras.keys, values: extras.values, row, own: false });
    }
  }
  return visible;
}

function attendOneHead(input: AttentionReferenceInput, visible: VisibleKey[], query: number, head: number, out: Float64Array): void {
  const { headDim } = input;
  const width = input.heads * headDim;
  const q = query * width + head * headDim;
  const scores = visible.map(({ keys, row, own }) => {
    let dot = 0;
    for (let d = 0; d < headDim; d++) dot += input.queries[q + d] * keys[row * width + head * headDim + d];
    const bias = own && input.positionBias ? input.positionBias(head, query, row) : 0;
    return input.scale * dot + bias;
  });
  const max = Math.max(...scores);
  const weights = scores.map((score) => Math.exp(score - max));
  const total = weights.reduce((a, b) => a + b, 0);
  visible.forEach(({ values, row }, i) => {
    for (let d = 0; d < headDim; d++) out[q + d] += (weights[i] / total) * values[row * width + head * headDim + d];
  });
}
