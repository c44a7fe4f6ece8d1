import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';
import { VitePWA } from 'vite-plugin-pwa';
import { wgslText } from './tools/wgsl-text-plugin.ts';

export default defineConfig({
  plugins: [
    wgslText(),
    react(),
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
        // The app shell only; model files are stored by the engine itself (OPFS), not by the service worker.
        globPatterns: ['**/*.{js,css,html,svg,png,webmanifest}'],
        navigateFallback: 'index.html',
      },
    }),
  ],
  worker: { format: 'es', plugins: () => [wgslText()] },
  build: { target: 'es2022', sourcemap: true },
  preview: { host: '127.0.0.1' },
});
