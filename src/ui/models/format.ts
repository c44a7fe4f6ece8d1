// Sizes, rates and durations as the model panel shows them (decimal units, as disks and Hugging Face show file sizes).

export function gigabytes(bytes: number): string {
  if (bytes >= 1e9) return `${(bytes / 1e9).toFixed(1)} GB`;
  if (bytes >= 1e6) return `${(bytes / 1e6).toFixed(1)} MB`;
  return `${Math.max(0, Math.round(bytes / 1e3))} kB`;
}

/** GPU memory in binary units, as drivers and GPU specifications count it. */
export function gibibytes(bytes: number): string {
  return `${(bytes / 2 ** 30).toFixed(bytes < 2 ** 30 ? 2 : 1)} GiB`;
}

export function rate(bytesPerSecond: number): string {
  return bytesPerSecond > 0 ? `${gigabytes(bytesPerSecond)}/s` : 'measuring…';
}

/** "about 3 h 12 min", "about 40 s" */
export function duration(seconds: number | undefined): string {
  if (seconds === undefined || !Number.isFinite(seconds)) return 'estimating…';
  const s = Math.round(seconds);
  if (s < 60) return `about ${s} s`;
  const minutes = Math.round(s / 60);
  return minutes < 60 ? `about ${minutes} min` : `about ${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}
