import { describe, expect, it } from 'vitest';
import { ESLint } from 'eslint';

/**
 * The architecture's import boundaries are enforced by lint rules in eslint.config.js;
 * these cases prove the rules fire (and do not fire on allowed imports).
 */
const eslint = new ESLint({ cwd: process.cwd() });

async function violations(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath });
  return result!.messages.filter((m) => m.severity === 2).map((m) => m.ruleId ?? m.message);
}

describe('architecture boundaries', () => {
  const refused: Array<[string, string, string?]> = [
    ['src/core/bad.ts', "import { useState } from 'react';\nexport const x = useState;\n"],
    ['src/core/bad.ts', "import { openDB } from 'idb';\nexport const x = openDB;\n"],
    ['src/core/bad.ts', "import { readFileSync } from 'node:fs';\nexport const x = readFileSync;\n"],
    ['src/core/bad.ts', "import { randomBytes } from 'crypto';\nexport const x = randomBytes;\n"],
    ['src/core/bad.ts', "import { App } from '../app/App.tsx';\nexport const x = App;\n"],
    ['src/core/bad.ts', "import { x as y } from '../platform/thing.ts';\nexport const x = y;\n"],
    ['src/core/bad.ts', "import { loadConfig } from '../relay/config.ts';\nexport const x = loadConfig;\n"],
    ['src/core/bad.ts', 'export const w = window.location.href;\n', 'no-restricted-globals'],
    ['src/core/bad.ts', "export function f() { console.log('hi'); }\n", 'no-console'],
    ['src/relay/bad.ts', "import { x as y } from '../platform/thing.ts';\nexport const x = y;\n"],
    ['src/relay/bad.ts', "import { x as y } from '../core/crypto/thing.ts';\nexport const x = y;\n"],
    ['src/relay/bad.ts', "import { createRoot } from 'react-dom/client';\nexport const x = createRoot;\n"],
    ['src/app/bad.tsx', "import { loadConfig } from '../relay/config.ts';\nexport const x = loadConfig;\n"],
    ['src/platform/bad.ts', "import { useState } from 'react';\nexport const x = useState;\n"],
  ];
  it.each(refused)('refuses %s: %s', async (file, code, rule = 'no-restricted-imports') => {
    expect(await violations(file, code)).toContain(rule);
  });

  const allowed: Array<[string, string]> = [
    ['src/relay/ok.ts', "import { x as y } from '../core/wire/thing.ts';\nexport const x = y;\n"],
    ['src/core/ok.ts', "import { sha256 } from '@noble/hashes/sha2.js';\nexport const x = sha256;\n"],
    ['src/core/messenger/ok.ts', "import { encrypt } from '../crypto/index.ts';\nexport const x = encrypt;\n"],
    ['src/platform/ok.ts', "import { openDB } from 'idb';\nexport const x = openDB;\n"],
    ['src/app/ok.tsx', "import { useState } from 'react';\nexport const x = useState;\n"],
  ];
  it.each(allowed)('allows %s: %s', async (file, code) => {
    expect(await violations(file, code)).toEqual([]);
  });
});
