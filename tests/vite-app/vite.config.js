import { defineConfig } from 'vite';

export default defineConfig({
  // Relative URLs in the built page, so dist/ can be served under any path (the e2e test
  // serves it as the collector's /demo/).
  base: './',
  // `vite` (dev server) only: pre-bundling would move the package's JS into
  // node_modules/.vite/deps/ without its .wasm, and `new URL('player_wasm_bg.wasm',
  // import.meta.url)` would then answer index.html. Excluded, it is served from the
  // package's own directory. `vite build` handles the URL either way (a hashed asset).
  optimizeDeps: { exclude: ['wasm-hls-player'] },
  build: {
    // The .wasm must come out as its own asset, never inlined as a data: URL.
    assetsInlineLimit: 0,
  },
});
