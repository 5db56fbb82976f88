import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

// The habits of STYLE.md that a linter can see, checked with type information (projectService:
// each file is linted with the tsconfig that builds it: packages/*/tsconfig.json for sources,
// tsconfig.json at the root for tests and bench code).
export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', 'data/**', 'bench/results/**', 'packages/server/admin-page/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: { projectService: { allowDefaultProject: ['packages/web/vite.config.ts'] }, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // A promise nobody awaits loses its error: await it, or mark it `void` where that is the intent.
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false, attributes: false } }],
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/return-await': ['error', 'in-try-catch'],
      // Errors are values: what is thrown or rejected is an Error (a KerutaError where a user sees it).
      '@typescript-eslint/only-throw-error': 'error',
      '@typescript-eslint/prefer-promise-reject-errors': 'error',
    },
  },
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-syntax': [
        'error',
        { selector: 'ExportDefaultDeclaration', message: 'Use named exports.' },
        { selector: 'ExportSpecifier[exported.name="default"]', message: 'Use named exports.' },
      ],
    },
  },
  {
    // Each program reads its environment in its config module and passes a typed config down.
    files: ['packages/*/src/**/*.ts'],
    ignores: ['packages/*/src/**/config.ts', 'packages/server/src/cli.ts', 'packages/testing/src/**'],
    rules: {
      'no-restricted-properties': [
        'error',
        { object: 'process', property: 'env', message: 'Read the environment in the program\'s config.ts and pass the typed config down.' },
      ],
    },
  },
  {
    // Tool configuration files must export a default.
    files: ['eslint.config.js', 'vitest.config.ts'],
    rules: { 'no-restricted-syntax': 'off' },
  },
  {
    files: ['**/*.mjs', '**/*.js'],
    languageOptions: { globals: globals.node },
  },
);
