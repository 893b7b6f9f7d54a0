import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', 'drizzle/', 'data/', 'bench/out/', 'dist/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  {
    // The domain core is pure: no adapters, no Slack, no Okta, no database, no I/O.
    files: ['src/domain/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [
          { group: ['**/adapters/**', '**/operations/**', '**/sandbox/**', '../../blocks/**'], message: 'The domain core must not import outer layers.' },
          { group: ['@slack/*', '@okta/*', 'better-sqlite3', 'drizzle-orm', 'drizzle-orm/*', 'node-cron', 'node:fs', 'node:http', 'fs', 'http'], message: 'The domain core is pure: no I/O libraries.' },
        ],
      }],
    },
  },
  {
    // Operations talk to the world through ports only.
    files: ['src/operations/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [
          { group: ['**/adapters/**', '**/sandbox/**'], message: 'Operations use ports (operations/ports.ts), not adapters.' },
          { group: ['@slack/*', '@okta/*', 'better-sqlite3', 'drizzle-orm', 'drizzle-orm/*'], message: 'Operations use ports, not client libraries.' },
        ],
      }],
    },
  },
  {
    files: ['blocks/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [{ group: ['**/adapters/**', '**/operations/**', '@okta/*', 'better-sqlite3', 'drizzle-orm'], message: 'Block builders use domain types only.' }],
      }],
    },
  },
);
