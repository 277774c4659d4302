import { defineConfig } from 'vite';

/**
 * The dashboard's production build, served by the coordinator from packages/web/dist. JSX goes
 * through esbuild (React's automatic runtime): the page needs no Babel and no dev-only plugin.
 */
export default defineConfig({
  root: import.meta.dirname,
  base: '/',
  esbuild: { jsx: 'automatic' },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    // Every byte is served from the coordinator; a source map helps debug a farm's page without costing its users.
    sourcemap: true,
    chunkSizeWarningLimit: 600,
    rollupOptions: {
      onwarn(warning, warn) {
        // TanStack Router marks its modules "use client" for server-component bundlers; a plain SPA has none.
        if (warning.code === 'MODULE_LEVEL_DIRECTIVE' || warning.code === 'SOURCEMAP_ERROR') return;
        warn(warning);
      },
    },
  },
});
