import { readFileSync } from 'node:fs';
import react from '@vitejs/plugin-react';
import { defineConfig, type Plugin } from 'vite';
import { VitePWA } from 'vite-plugin-pwa';
import { devModels } from './tools/dev-models-plugin.ts';
import { wgslText } from './tools/wgsl-text-plugin.ts';

// The Content-Security-Policy is written once, in index.html's <meta>, which the build keeps.
// A meta policy does not govern workers (the engine worker's fetches, hash-wasm's WebAssembly),
// so `vite preview` also sends it as a header, and the build writes dist/_headers for static
// hosts that read one (Netlify, Cloudflare Pages); frame-ancestors only works as a header.
// 'wasm-unsafe-eval': hash-wasm compiles its SHA-256 from bytes (WebAssembly.compile).
const CSP_META = /<meta http-equiv="Content-Security-Policy" content="([^"]+)" \/>\s*/;
const SECURITY_HEADERS = {
  'Content-Security-Policy': `${CSP_META.exec(readFileSync(new URL('./index.html', import.meta.url), 'utf8'))![1]}; frame-ancestors 'none'`,
};

function contentSecurityPolicy(): Plugin[] {
  return [
    // The dev server's hot reload needs an inline script and <style> elements: no policy there.
    { name: 'csp:dev', apply: 'serve', transformIndexHtml: (html) => html.replace(CSP_META, '') },
    {
      name: 'csp:headers-file',
      apply: 'build',
      generateBundle() {
        const lines = Object.entries(SECURITY_HEADERS).map(([name, value]) => `  ${name}: ${value}`);
        this.emitFile({ type: 'asset', fileName: '_headers', source: `/*\n${lines.join('\n')}\n` });
      },
    },
  ];
}

export default defineConfig({
  plugins: [
    wgslText(),
    react(),
    // `npm run dev` only: the tiny test models and their catalog at /dev-models/.
    devModels(),
    contentSecurityPolicy(),
    VitePWA({
      registerType: 'autoUpdate',
      includeAssets: ['icon.svg'],
      manifest: {
        name: 'CharaConsist — consistent characters on your GPU',
        short_name: 'CharaConsist',
        description: 'Write a story; FLUX.1 and CharaConsist draw the same character in every frame, on your own GPU.',
        theme_color: '#1b1d2a',
        background_color: '#12131c',
        display: 'standalone',
        start_url: '.',
        icons: [
          { src: 'icon-192.png', sizes: '192x192', type: 'image/png' },
          { src: 'icon-512.png', sizes: '512x512', type: 'image/png' },
          { src: 'icon-512.png', sizes: '512x512', type: 'image/png', purpose: 'maskable' },
        ],
      },
      workbox: {
        // The app shell only, tokenizers included (public/tokenizers: JSON and merges.txt, up to
        // ~2.4 MB each), so the app opens and generates offline. Model files are stored by the
        // engine itself (OPFS): never precached, and no runtime caching touches their requests.
        globPatterns: ['**/*.{js,css,html,svg,png,webmanifest,json,txt}'],
        globIgnores: ['**/*.{gguf,safetensors}', 'tiny-models/**'],
        maximumFileSizeToCacheInBytes: 4 * 1024 * 1024,
        navigateFallback: 'index.html',
      },
    }),
  ],
  worker: { format: 'es', plugins: () => [wgslText()] },
  build: { target: 'es2022', sourcemap: true },
  preview: { host: '127.0.0.1', headers: SECURITY_HEADERS },
});
