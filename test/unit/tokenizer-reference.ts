// Plain reimplementations of the two FLUX tokenizers, written from their published algorithms
// (openai/CLIP simple_tokenizer.py; SentencePiece Unigram Viterbi) and independent of the
// library and of our tokenizer.json converter. They serve as the oracle for random text within
// the subset they cover: CLIP without ftfy/HTML cleanup; T5 for space-separated text made of
// characters that are T5 pieces themselves (no normalization to do).

/** CLIP BPE ids of `text`, without BOS/EOS. */
export function referenceClipIds(text: string, vocab: Record<string, number>, mergesText: string): number[] {
  const ranks = new Map(
    mergesText
      .split('\n')
      .slice(1)
      .filter((line) => line.length > 0)
      .map((line, rank) => [line, rank] as const),
  );
  const byteSymbol = gpt2ByteSymbols();
  const cleaned = text.normalize('NFC').replace(/\s+/gu, ' ').trim().toLowerCase();
  const words = cleaned.match(/<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+/gu) ?? [];
  return words.flatMap((word) => {
    const symbols = [...new TextEncoder().encode(word)].map((byte) => byteSymbol[byte]);
    return clipBpe(symbols, ranks).map((symbol) => vocab[symbol]);
  });
}

/** CLIP's loop: merge every occurrence of the lowest-ranked adjacent pair until none is a merge. */
function clipBpe(symbols: string[], ranks: Map<string, number>): string[] {
  let word = [...symbols.slice(0, -1), symbols[symbols.length - 1] + '</w>'];
  for (;;) {
    let best: string | undefined;
    for (let i = 0; i + 1 < word.length; i++) {
      const pair = `${word[i]} ${word[i + 1]}`;
      if (ranks.has(pair) && (best === undefined || ranks.get(pair)! < ranks.get(best)!)) best = pair;
    }
    if (best === undefined) return word;
    const [left, right] = best.split(' ');
    const merged: string[] = [];
    for (let i = 0; i < word.length; i++) {
      if (word[i] === left && word[i + 1] === right) {
        merged.push(left + right);
        i++;
      } else {
        merged.push(word[i]);
      }
    }
    word = merged;
  }
}

/** GPT-2's reversible byte → printable character table. */
function gpt2ByteSymbols(): string[] {
  const printable = (b: number) => (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
  const symbols: string[] = [];
  let next = 256;
  for (let b = 0; b < 256; b++) symbols[b] = String.fromCodePoint(printable(b) ? b : next++);
  return symbols;
}

/** T5 Unigram ids of `text`, without EOS: "▁" + each space-separated word, best-scoring split. */
export function referenceT5Ids(text: string, pieces: [string, number][]): number[] {
  const scoreOf = new Map(pieces.map(([piece, score]) => [piece, score]));
  const idOf = new Map(pieces.map(([piece], id) => [piece, id]));
  const longest = Math.max(...pieces.map(([piece]) => piece.length));
  const words = text.split(' ').filter((word) => word.length > 0);
  return words.flatMap((word) => viterbi('\u2581' + word, scoreOf, longest).map((piece) => idOf.get(piece)!));
}

function viterbi(word: string, scoreOf: Map<string, number>, longest: number): string[] {
  const best = new Float64Array(word.length + 1).fill(-Infinity);
  const start = new Int32Array(word.length + 1);
  best[0] = 0;
  for (let end = 1; end <= word.length; end++) {
    for (let begin = Math.max(0, end - longest); begin < end; begin++) {
      const score = scoreOf.get(word.slice(begin, end));
      if (score !== undefined && best[begin] + score > best[end]) {
        best[end] = best[begin] + score;
        start[end] = begin;
      }
    }
  }
  const split: string[] = [];
  for (let end = word.length; end > 0; end = start[end]) split.unshift(word.slice(start[end], end));
  return split;
}
