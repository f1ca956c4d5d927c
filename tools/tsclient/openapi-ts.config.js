// How tools/tsclient/run.sh generates the client: the fetch client, its
// types and SDK, and zod schemas with which the SDK checks every request
// and answer at run time. OPENAPI_INPUT is the document to read (run.sh
// passes the one the example serves).
import { defineConfig } from '@hey-api/openapi-ts';

export default defineConfig({
  input: process.env.OPENAPI_INPUT ?? '../../openapi.json',
  output: 'gen',
  logs: { file: false },
  plugins: ['@hey-api/client-fetch', '@hey-api/typescript', 'zod', { name: '@hey-api/sdk', validator: true }],
});
