import { defineConfig } from 'drizzle-kit';

/** PostgreSQL (DATABASE_URL): `npm run db:generate` writes its migrations to drizzle/postgres/. */
export default defineConfig({
  dialect: 'postgresql',
  schema: './src/adapters/db/postgres/schema.ts',
  out: './drizzle/postgres',
});
