import { defineConfig } from 'vitest/config';
import { wgslText } from './tools/wgsl-text-plugin.ts';

// Three projects, run one after the other by `npm test` (tools/test.mjs):
//   unit: plain Node;  gpu: Dawn + SwiftShader in Node;  e2e: the built app in headless Chromium.
export default defineConfig({
  plugins: [wgslText()],
  test: {
    projects: [
      { extends: true, test: { name: 'unit', include: ['test/unit/**/*.test.ts'] } },
      {
        extends: true,
        test: {
          name: 'gpu',
          include: ['test/gpu/**/*.test.ts'],
          env: {
            VK_ICD_FILENAMES: process.env.VK_ICD_FILENAMES ?? '/usr/lib/chromium/vk_swiftshader_icd.json',
            // Silences the Vulkan loader's complaint about a missing runtime dir on headless machines.
            XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR ?? '/tmp',
          },
          pool: 'forks',
          // SwiftShader already uses every core; parallel files only thrash.
          fileParallelism: false,
          testTimeout: 300_000,
          hookTimeout: 120_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          globalSetup: ['test/e2e/global-setup.ts'],
          fileParallelism: false,
          testTimeout: 300_000,
          hookTimeout: 300_000,
        },
      },
    ],
  },
});
