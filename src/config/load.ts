/**
 * YAML text → validated `Config`, or a `ConfigError` whose every issue names the file, line,
 * column and key path. Positions come from the YAML document's node ranges.
 */
import { readFile } from 'node:fs/promises';
import { isMap, isPair, isScalar, LineCounter, parseDocument, type Document } from 'yaml';
import { EMBEDDED_CONFIG, EMBEDDED_SOURCE } from './default-config.js';
import { ConfigError, formatPath, type ConfigIssue } from './errors.js';
import { configSchemaWith, type RawConfig } from './schema.js';
import type { ConfigSection } from './section.js';
import type { Config } from './types.js';
import { buildConfig } from './validate.js';

function positionOf(doc: Document, lc: LineCounter, path: Array<string | number>, unknownKey?: string): { line: number; col: number } {
  // Walk down as far as the path exists; an unknown key points at the key itself.
  let node: unknown = doc.contents;
  let offset = 0;
  const nodeStart = (n: unknown) => (n && typeof n === 'object' && 'range' in n && Array.isArray((n as { range: unknown }).range)
    ? (n as { range: [number] }).range[0] : undefined);
  offset = nodeStart(node) ?? 0;
  for (const key of [...path, ...(unknownKey !== undefined ? [unknownKey] : [])]) {
    if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && p.key.value === key);
      if (!pair) break;
      const isLast = key === unknownKey;
      offset = nodeStart(isLast ? pair.key : (pair.value ?? pair.key)) ?? offset;
      node = pair.value;
    } else if (node && typeof node === 'object' && 'items' in node && typeof key === 'number') {
      const item = (node as { items: unknown[] }).items[key];
      if (item === undefined) break;
      offset = nodeStart(item) ?? offset;
      node = item;
    } else break;
  }
  const pos = lc.linePos(offset);
  return { line: pos.line, col: pos.col };
}

export interface LoadOptions {
  /** the rooms' sections the file may hold (the composition root passes them all) */
  sections?: ReadonlyArray<ConfigSection<unknown>>;
  /** facts the file cannot say, for the sections' checks (the kernel's qdiscs, for `check`) */
  hints?: Record<string, unknown>;
}

export function parseConfig(text: string, file: string, opts: LoadOptions = {}): Config {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(doc.errors.map((e) => {
      const pos = lc.linePos(e.pos[0]);
      return { file, line: pos.line, col: pos.col, path: '', message: e.message.split('\n')[0] };
    }));
  }
  const data = doc.toJS() ?? {};
  const sections = opts.sections ?? [];
  const parsed = configSchemaWith(Object.assign({}, ...sections.map((s) => s.shape))).safeParse(data);
  const issues: ConfigIssue[] = [];
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
      if (issue.code === 'unrecognized_keys') {
        for (const key of issue.keys) {
          issues.push({ file, ...positionOf(doc, lc, path, key), path: formatPath([...path, key]), message: 'unknown key' });
        }
      } else {
        issues.push({ file, ...positionOf(doc, lc, path), path: formatPath(path), message: issue.message });
      }
    }
    throw new ConfigError(issues);
  }
  const built = buildConfig(parsed.data as RawConfig, file, sections, opts.hints);
  if (!built.config) {
    throw new ConfigError(built.issues.map((i) => ({ file, ...positionOf(doc, lc, i.path), path: formatPath(i.path), message: i.message })));
  }
  const at = (i: { path: Array<string | number>; message: string }): ConfigIssue => ({ file, ...positionOf(doc, lc, i.path), path: formatPath(i.path), message: i.message });
  return { ...built.config, warnings: built.warnings.map(at) };
}

export async function loadConfig(file?: string, opts: LoadOptions = {}): Promise<Config> {
  if (file === undefined) return parseConfig(EMBEDDED_CONFIG, EMBEDDED_SOURCE, opts);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (cause) {
    throw new ConfigError([{ file, line: 1, col: 1, path: '', message: `cannot read: ${(cause as Error).message}` }], { cause });
  }
  return parseConfig(text, file, opts);
}
