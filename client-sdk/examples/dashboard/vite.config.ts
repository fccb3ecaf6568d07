/**
 * The dashboard's Vite config. The page calls /graphql on its own origin; the dev server and
 * `vite preview` proxy it to the service at LEDGER_URL, adding `Authorization: Bearer LEDGER_TOKEN`
 * when set, so the token stays on the server and no CORS setting is needed. DASHBOARD_CITY names
 * the city shown when the page's URL does not (?city=...).
 */
import { defineConfig, type ProxyOptions } from 'vite';

const ledgerUrl = new URL(process.env.LEDGER_URL?.trim() || 'http://localhost:4000/graphql');
if (ledgerUrl.pathname === '/' || ledgerUrl.pathname === '') ledgerUrl.pathname = '/graphql';
const token = process.env.LEDGER_TOKEN?.trim();

const proxy: Record<string, ProxyOptions> = {
  '/graphql': {
    target: ledgerUrl.origin,
    changeOrigin: true,
    rewrite: () => ledgerUrl.pathname,
    ...(token ? { headers: { authorization: `Bearer ${token}` } } : {}),
  },
};

export default defineConfig({
  define: { 'import.meta.env.VITE_DASHBOARD_CITY': JSON.stringify(process.env.DASHBOARD_CITY ?? 'Riverton') },
  server: { proxy },
  preview: { proxy },
  build: { chunkSizeWarningLimit: 1500 },
});
