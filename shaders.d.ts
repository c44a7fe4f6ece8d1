// WGSL sources are imported as text: vite (tools/wgsl-text-plugin) and esbuild (loader "text") both do it.
declare module '*.wgsl' {
  const source: string;
  export default source;
}
