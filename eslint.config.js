import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** The composition root, which wires the adapters: nothing it wires imports it. */
const UPWARD = ['**/runtime.js', '**/health.js', '**/config.js', '**/main.js', '**/start-slack.js', '**/cli/**'];
/** The database driver and query builder: src/adapters/db/ only. */
const DATABASE = ['better-sqlite3', 'drizzle-orm', 'drizzle-orm/*', 'drizzle-kit', 'pg'];

export default tseslint.config(
  { ignores: ['node_modules/', 'drizzle/', 'data/', 'bench/out/', 'dist/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      // `import { z }` makes zod's whole `z` namespace one object, which the build's bundler must keep
      // whole (every locale: about 560 kB that each command would load); zod documents this form.
      'no-restricted-syntax': [
        'error',
        {
          selector: "ImportDeclaration[source.value='zod'][importKind='value'] ImportSpecifier[imported.name='z']",
          message: "Import zod as `import * as z from 'zod'` (see scripts/build.js).",
        },
      ],
      // Prettier (npm run format) wraps code at 120; it never splits a string, so long strings and
      // template literals (messages people read, SQL) stay whole and greppable.
      'max-len': [
        'error',
        { code: 120, ignoreUrls: true, ignoreStrings: true, ignoreTemplateLiterals: true, ignoreRegExpLiterals: true },
      ],
    },
  },
  {
    // Promises the code forgets are bugs the SQLite store hides (its methods run synchronously) and
    // another store would not: a write not awaited inside a transaction would escape it.
    files: ['src/**/*.ts', 'blocks/**/*.ts', 'test/**/*.ts', 'bench/**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: false }],
    },
  },
  {
    // The domain core is pure: no adapters, no Slack, no Okta, no database, no I/O.
    files: ['src/domain/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/adapters/**', '**/operations/**', '**/sandbox/**', '../../blocks/**'],
              message: 'The domain core must not import outer layers.',
            },
            {
              group: [
                '@slack/*',
                '@okta/*',
                'better-sqlite3',
                'drizzle-orm',
                'drizzle-orm/*',
                'node-cron',
                'node:fs',
                'node:http',
                'fs',
                'http',
              ],
              message: 'The domain core is pure: no I/O libraries.',
            },
          ],
        },
      ],
    },
  },
  {
    // Operations talk to the world through ports only.
    files: ['src/operations/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/adapters/**', '**/sandbox/**'],
              message: 'Operations use ports (operations/ports.ts), not adapters.',
            },
            {
              group: ['@slack/*', '@okta/*', 'better-sqlite3', 'drizzle-orm', 'drizzle-orm/*'],
              message: 'Operations use ports, not client libraries.',
            },
          ],
        },
      ],
    },
  },
  {
    // Adapters receive ports and options from the composition root (main.ts, runtime.ts, the CLI's
    // runtime-context.ts); they never reach back up to it. SQL stays in the database adapter.
    files: ['src/adapters/**/*.ts', 'src/sandbox/**/*.ts'],
    ignores: ['src/adapters/db/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: UPWARD, message: 'Adapters get what they need from the composition root; they do not import it.' },
            {
              group: DATABASE,
              message: 'SQL, dialect and driver types stay in src/adapters/db/ (use the store port).',
            },
          ],
        },
      ],
    },
  },
  {
    // The Slack adapter reaches data through operations and ports only.
    files: ['src/adapters/slack/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: UPWARD, message: 'Adapters get what they need from the composition root; they do not import it.' },
            {
              group: DATABASE,
              message: 'SQL, dialect and driver types stay in src/adapters/db/ (use the store port).',
            },
            {
              group: ['**/db/*', '**/csv/*', '**/okta/*', '**/provisioners/*'],
              message: 'The Slack adapter reaches data through operations and ports, not other adapters.',
            },
          ],
        },
      ],
    },
  },
  {
    // The composition root and the CLI choose the store; they do not speak SQL either.
    files: ['src/*.ts', 'src/cli/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: DATABASE,
              message: 'SQL, dialect and driver types stay in src/adapters/db/ (use the store port).',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['blocks/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/adapters/**', '**/operations/**', '@okta/*', 'better-sqlite3', 'drizzle-orm'],
              message: 'Block builders use domain types only.',
            },
          ],
        },
      ],
    },
  },
);
