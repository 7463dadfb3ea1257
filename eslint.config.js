// @ts-check
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', '**/coverage/**', 'docs/api/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  {
    // Library code reports through the injectable logger, never the console.
    files: ['packages/*/src/**/*.ts'],
    ignores: ['packages/*/src/**/*.test.ts', 'packages/cli/src/**'],
    rules: { 'no-console': 'error' },
  },
  {
    // One topic grammar: `$mcp-...` and `$a2a/...` topics are spelled only in core's topic modules; everyone
    // else builds, parses and matches them with core's builders, parsers and roots.
    files: ['packages/*/src/**/*.ts'],
    ignores: [
      'packages/*/src/**/*.test.ts',
      'packages/core/src/mcp-topics.ts',
      'packages/core/src/a2a-topics.ts',
    ],
    rules: {
      'no-restricted-syntax': [
        'error',
        {
          selector: 'Literal[value=/\\$(mcp-|a2a\\/)/]',
          message: "Build or match MCP/A2A topics with @mqtt-agents/core's topic builders and parsers.",
        },
        {
          selector: 'TemplateElement[value.raw=/\\$(mcp-|a2a\\/)/]',
          message: "Build or match MCP/A2A topics with @mqtt-agents/core's topic builders and parsers.",
        },
      ],
    },
  },
);
