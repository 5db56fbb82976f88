// Builds the admin page to dist/: index.html and hashed assets, no inline script or style, so
// that keruta-api can serve it under a strict Content-Security-Policy.
import { defineConfig } from 'vite';

// eslint-disable-next-line no-restricted-syntax -- Vite reads the config's default export.
export default defineConfig({
  // Relative asset URLs: the page works wherever keruta-api is mounted.
  base: './',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    // Modern browsers preload modules themselves; the polyfill would be code run for nothing.
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    reportCompressedSize: false,
  },
});
