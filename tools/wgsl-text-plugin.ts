// Vite/Vitest plugin: `import source from '…/x.wgsl'` yields the file's text.
// (esbuild bundles of the Node tools use its built-in "text" loader for the same effect.)

import type { Plugin } from 'vite';

export function wgslText(): Plugin {
  return {
    name: 'wgsl-text',
    enforce: 'pre',
    transform(code, id) {
      if (!id.split('?')[0].endsWith('.wgsl')) return null;
      return { code: `export default ${JSON.stringify(code)};`, map: null };
    },
  };
}
