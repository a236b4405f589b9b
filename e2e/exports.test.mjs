//! The exports checked by the real tools that read them, not by our own idea of the
//! formats: the official CloudEvents SDK and the spec's JSON Schema (with ajv),
//! mermaid@11 (what GitHub renders) under jsdom, and @asyncapi/parser. Perfetto has no
//! offline checker, so its trace-event rules are checked structurally here too.
//!
//! The files come from the native CLI (`eventscope-cli run --format …`) for every
//! built-in scenario with random faults. Every checker is also given a deliberately
//! broken file and must reject it: a check that cannot fail proves nothing.

import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { before, describe, test } from 'node:test';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import { CloudEvent, HTTP } from 'cloudevents';
import { Parser } from '@asyncapi/parser';
import { JSDOM } from 'jsdom';

const REPO = join(dirname(fileURLToPath(import.meta.url)), '..');
const OUT = join(REPO, 'e2e', 'output', 'exports');
const TARGET = process.env.CARGO_TARGET_DIR ?? join(REPO, 'target');
const CLI = join(TARGET, 'debug', 'eventscope-cli');
const FORMATS = ['trace', 'cloudevents', 'cloudevents-jsonl', 'mermaid', 'perfetto', 'asyncapi'];

/** Runs the CLI; returns { status, stdout, stderr }. */
function cli(...args) {
  const r = spawnSync(CLI, args, { encoding: 'utf8', maxBuffer: 64 << 20 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The export files, by scenario and format: { name: { format: text } }. */
const files = {};
let scenarios = [];

before(() => {
  // A no-op when `make test`'s native stage has built it already.
  execFileSync('cargo', ['build', '-q', '--bin', 'eventscope-cli'], { cwd: REPO, stdio: 'inherit' });
  mkdirSync(OUT, { recursive: true });
  scenarios = cli('scenarios').stdout.trim().split('\n').map((line) => line.split(/\s+/)[0]);
  assert.ok(scenarios.length >= 9, `built-in scenarios: ${scenarios}`);
  // Checkout with no trucks: shipping fails and the compensations run backwards.
  const noTrucks = join(OUT, 'no-trucks.faults.json');
  writeFileSync(
    noTrucks,
    JSON.stringify({
      scripted: [{ at: { step: 0 }, fault: { set_state: { service: 'shipping', key: 'trucks', value: 0 } } }],
    }),
  );
  const runs = [
    ...scenarios.map((name) => [name, ['--scenario', name, '--seed', '1', '--fault-rate', '100']]),
    ['checkout-no-trucks', ['--scenario', 'checkout', '--seed', '1', '--faults', noTrucks]],
  ];
  for (const [name, args] of runs) {
    files[name] = {};
    for (const format of FORMATS) {
      const r = cli('run', ...args, '--format', format);
      assert.equal(r.status, 0, `${name} ${format}: ${r.stderr}`);
      files[name][format] = r.stdout;
      writeFileSync(join(OUT, `${name}.${format}`), r.stdout);
    }
  }
});

// -------------------------------------------------------------------------------------
// CloudEvents: the official SDK and the spec's JSON Schema
// -------------------------------------------------------------------------------------

const ajv = new Ajv({ strict: false, allErrors: true });
addFormats(ajv);
const validateSchema = ajv.compile(
  JSON.parse(readFileSync(join(REPO, 'e2e', 'fixtures', 'cloudevents-1.0.schema.json'), 'utf8')),
);

/** Problems with one structured event, or [] if the SDK and the schema accept it. */
function cloudEventProblems(event) {
  const problems = [];
  try {
    new CloudEvent(event, true).validate();
  } catch (e) {
    problems.push(`SDK: ${e.message.split('\n')[0]}`);
  }
  if (!validateSchema(event)) {
    problems.push(...validateSchema.errors.map((e) => `schema: ${e.instancePath} ${e.message}`));
  }
  // The spec's naming rule (the SDK treats the length limit as a SHOULD).
  for (const name of Object.keys(event)) {
    if (!/^[a-z0-9]{1,20}$/.test(name)) problems.push(`attribute name '${name}'`);
  }
  return problems;
}

describe('CloudEvents export', () => {
  test('every event of every scenario passes the SDK and the spec schema', () => {
    let count = 0;
    for (const [name, f] of Object.entries(files)) {
      const batch = JSON.parse(f.cloudevents);
      assert.ok(Array.isArray(batch) && batch.length > 0, name);
      for (const event of batch) {
        assert.deepEqual(cloudEventProblems(event), [], `${name}: ${JSON.stringify(event)}`);
        assert.equal(typeof event.correlationid, 'string', `${name}: correlationid`);
        count += 1;
      }
      // JSON Lines hold the same events, one per line.
      const lines = f['cloudevents-jsonl'].trim().split('\n').map((l) => JSON.parse(l));
      assert.deepEqual(lines, batch, name);
      // And the SDK's HTTP binding reads the batch as a batch.
      const events = HTTP.toEvent({
        headers: { 'content-type': 'application/cloudevents-batch+json' },
        body: f.cloudevents,
      });
      assert.equal(events.length, batch.length, name);
    }
    assert.ok(count > 100, `checked ${count} events`);
  });

  test('a broken event fails the checks', () => {
    const good = JSON.parse(files.checkout.cloudevents)[0];
    assert.deepEqual(cloudEventProblems(good), []);
    const uppercase = { ...good, CorrelationId: good.correlationid };
    assert.ok(cloudEventProblems(uppercase).some((p) => p.startsWith('SDK: invalid extension name')));
    const longName = { ...good, averyveryverylongattribute: 'x' };
    assert.deepEqual(cloudEventProblems(longName), ["attribute name 'averyveryverylongattribute'"]);
    const badTime = { ...good, time: 'yesterday' };
    assert.ok(cloudEventProblems(badTime).some((p) => p.startsWith('schema: /time')));
    const { id, ...noId } = good;
    assert.ok(id);
    assert.ok(cloudEventProblems(noId).some((p) => p.includes("must have required property 'id'")));
  });
});

// -------------------------------------------------------------------------------------
// Mermaid: mermaid@11's own parser under jsdom
// -------------------------------------------------------------------------------------

let mermaid;
async function parseMermaid(text) {
  if (!mermaid) {
    const dom = new JSDOM('<!doctype html><html><body></body></html>');
    globalThis.window = dom.window;
    globalThis.document = dom.window.document;
    mermaid = (await import('mermaid')).default;
  }
  return mermaid.parse(text);
}

describe('Mermaid export', () => {
  test('mermaid@11 parses the diagram of every scenario', async () => {
    for (const [name, f] of Object.entries(files)) {
      const result = await parseMermaid(f.mermaid);
      assert.equal(result.diagramType, 'sequence', name);
    }
    const compensations = files['checkout-no-trucks'].mermaid;
    assert.match(compensations, /\n {4}rect rgb\(/);
    assert.match(compensations, /↩ compensate /);
  });

  test('the diagram of one correlation id parses', async () => {
    const first = JSON.parse(files.checkout.cloudevents)[0].correlationid;
    const r = cli('run', '--scenario', 'checkout', '--seed', '1', '--format', 'mermaid', '--correlation', first);
    assert.equal(r.status, 0, r.stderr);
    assert.ok(r.stdout.split('\n').filter((l) => l.includes('->>')).length >= 3, r.stdout);
    await parseMermaid(r.stdout);
  });

  test('a broken diagram fails to parse', async () => {
    const good = files['checkout-no-trucks'].mermaid;
    await parseMermaid(good);
    const unterminatedParticipant = good.replace(/participant s0 as \S+/, 'participant');
    await assert.rejects(parseMermaid(unterminatedParticipant));
    const unclosedRect = good.replace(/\n {4}end\n(?![\s\S]*\n {4}end\n)/, '\n');
    assert.notEqual(unclosedRect, good);
    await assert.rejects(parseMermaid(unclosedRect));
    // Why labels are escaped: a raw ';' ends the statement mid-label.
    const rawSemicolon = good.replace('order.placed', 'order;placed');
    await assert.rejects(parseMermaid(rawSemicolon));
  });
});

// -------------------------------------------------------------------------------------
// AsyncAPI: @asyncapi/parser
// -------------------------------------------------------------------------------------

const ERROR = 0; // DiagnosticSeverity.Error
const parser = new Parser();
async function asyncApiErrors(text) {
  const { document, diagnostics } = await parser.parse(text);
  const errors = diagnostics.filter((d) => d.severity === ERROR).map((d) => `${d.code}: ${d.message}`);
  return { document, errors };
}

describe('AsyncAPI export', () => {
  test('@asyncapi/parser reads every document without errors', async () => {
    for (const [name, f] of Object.entries(files)) {
      const { document, errors } = await asyncApiErrors(f.asyncapi);
      assert.deepEqual(errors, [], name);
      assert.ok(document, name);
      assert.equal(document.version(), '3.0.0');
      assert.ok(document.channels().length > 0, name);
      assert.ok(document.operations().filterByReceive().length > 0, name);
      assert.ok(document.operations().filterBySend().length > 0, name);
      assert.ok(document.messages().length > 0, name);
    }
  });

  test('a broken document is rejected', async () => {
    const good = JSON.parse(files.checkout.asyncapi);
    const { asyncapi, ...missingVersion } = good;
    assert.equal(asyncapi, '3.0.0');
    const r1 = await asyncApiErrors(JSON.stringify(missingVersion));
    assert.ok(r1.errors.length > 0 && !r1.document, r1.errors.join('\n'));
    const danglingRef = structuredClone(good);
    const [op] = Object.values(danglingRef.operations);
    op.channel = { $ref: '#/channels/no-such-topic' };
    const r2 = await asyncApiErrors(JSON.stringify(danglingRef));
    assert.ok(r2.errors.length > 0, 'a reference to a missing channel is an error');
  });
});

// -------------------------------------------------------------------------------------
// Perfetto: the trace-event rules, structurally
// -------------------------------------------------------------------------------------

/** Problems with a Chrome trace-event document, or [] if it follows the rules. */
function traceEventProblems(doc) {
  const problems = [];
  if (!Array.isArray(doc.traceEvents)) return ['traceEvents is not an array'];
  if (doc.displayTimeUnit !== undefined && !['ms', 'ns'].includes(doc.displayTimeUnit)) {
    problems.push('displayTimeUnit');
  }
  const processNames = new Set();
  const threadNames = new Set();
  const threads = new Map(); // "pid/tid" → { last, stack, slices }
  const flows = new Map(); // id → { s: [], f: [] }
  const asyncs = new Map();
  const usedPids = new Set();
  doc.traceEvents.forEach((e, i) => {
    const at = `traceEvents[${i}]`;
    if (!Number.isInteger(e.pid)) return problems.push(`${at}: pid`);
    if (e.ph === 'M') {
      if (e.name === 'process_name' && typeof e.args?.name === 'string') processNames.add(e.pid);
      if (e.name === 'thread_name' && typeof e.args?.name === 'string') threadNames.add(`${e.pid}/${e.tid}`);
      return;
    }
    usedPids.add(e.pid);
    if (typeof e.ts !== 'number' || e.ts < 0) return problems.push(`${at}: ts`);
    const key = `${e.pid}/${e.tid}`;
    if (e.ph === 'X') {
      if (typeof e.dur !== 'number' || e.dur < 0) return problems.push(`${at}: dur`);
      const t = threads.get(key) ?? { last: 0, stack: [], slices: [] };
      threads.set(key, t);
      if (e.ts < t.last) problems.push(`${at}: ts goes back on ${key}`);
      t.last = e.ts;
      while (t.stack.length && t.stack.at(-1) <= e.ts) t.stack.pop();
      if (t.stack.length && e.ts + e.dur > t.stack.at(-1)) problems.push(`${at}: overlaps without nesting on ${key}`);
      t.stack.push(e.ts + e.dur);
      t.slices.push([e.ts, e.ts + e.dur]);
    } else if (e.ph === 's' || e.ph === 'f') {
      if (!Number.isInteger(e.id)) return problems.push(`${at}: flow id ${JSON.stringify(e.id)} is not an integer`);
      if (e.ph === 'f' && e.bp !== 'e') problems.push(`${at}: flow end without bp "e"`);
      const f = flows.get(e.id) ?? { s: [], f: [] };
      flows.set(e.id, f);
      f[e.ph].push({ key, ts: e.ts });
    } else if (e.ph === 'b' || e.ph === 'e') {
      if (!Number.isInteger(e.id)) return problems.push(`${at}: async id`);
      const a = asyncs.get(`${e.cat}/${e.id}`) ?? { b: [], e: [] };
      asyncs.set(`${e.cat}/${e.id}`, a);
      a[e.ph].push(e.ts);
    } else if (e.ph === 'C') {
      const values = Object.values(e.args ?? {});
      if (!values.length || !values.every((v) => typeof v === 'number')) problems.push(`${at}: counter args`);
    } else if (e.ph !== 'i') {
      problems.push(`${at}: unexpected ph ${e.ph}`);
    }
  });
  const inside = (key, ts) => (threads.get(key)?.slices ?? []).some(([a, b]) => a <= ts && ts <= b);
  for (const [id, f] of flows) {
    if (f.s.length !== 1 || f.f.length !== 1) {
      problems.push(`flow ${id}: ${f.s.length} start(s), ${f.f.length} end(s)`);
      continue;
    }
    if (f.f[0].ts < f.s[0].ts) problems.push(`flow ${id} ends before it starts`);
    if (!inside(f.s[0].key, f.s[0].ts) || !inside(f.f[0].key, f.f[0].ts)) problems.push(`flow ${id} binds to no slice`);
  }
  for (const [id, a] of asyncs) {
    if (a.b.length !== 1 || a.e.length !== 1 || a.e[0] < a.b[0]) problems.push(`async ${id}: unmatched`);
  }
  for (const pid of usedPids) if (!processNames.has(pid)) problems.push(`process ${pid} has no process_name`);
  for (const key of threads.keys()) if (!threadNames.has(key)) problems.push(`thread ${key} has no thread_name`);
  return problems;
}

describe('Perfetto export', () => {
  test('every trace follows the trace-event rules', () => {
    for (const [name, f] of Object.entries(files)) {
      const doc = JSON.parse(f.perfetto);
      assert.deepEqual(traceEventProblems(doc), [], name);
      assert.equal(doc.displayTimeUnit, 'ms');
      const phases = new Set(doc.traceEvents.map((e) => e.ph));
      for (const ph of ['M', 'X', 's', 'f', 'C']) assert.ok(phases.has(ph), `${name}: has ${ph} events`);
    }
    const sagas = JSON.parse(files['checkout-orchestration'].perfetto).traceEvents.filter((e) => e.ph === 'b');
    assert.ok(sagas.length > 0 && sagas.every((e) => e.cat === 'saga'));
  });

  test('a broken trace fails the rules', () => {
    const doc = JSON.parse(files['checkout-orchestration'].perfetto);
    assert.deepEqual(traceEventProblems(doc), []);
    const stringId = structuredClone(doc);
    stringId.traceEvents.find((e) => e.ph === 's').id = 'seven';
    assert.ok(traceEventProblems(stringId).some((p) => p.includes('is not an integer')));
    const overlapping = structuredClone(doc);
    const i = overlapping.traceEvents.findIndex((e) => e.ph === 'X' && e.cat === 'handling' && e.dur > 1);
    const slice = overlapping.traceEvents[i];
    overlapping.traceEvents.splice(i + 1, 0, { ...slice, ts: slice.ts + slice.dur / 2 });
    assert.ok(traceEventProblems(overlapping).some((p) => p.includes('overlaps without nesting')));
    const unnamed = structuredClone(doc);
    unnamed.traceEvents = unnamed.traceEvents.filter((e) => e.name !== 'thread_name');
    assert.ok(traceEventProblems(unnamed).some((p) => p.includes('no thread_name')));
  });
});

// -------------------------------------------------------------------------------------
// The canonical trace: replay
// -------------------------------------------------------------------------------------

describe('canonical trace export', () => {
  test('replay reproduces every exported run', () => {
    for (const name of Object.keys(files)) {
      const r = cli('replay', join(OUT, `${name}.trace`));
      assert.equal(r.status, 0, `${name}: ${r.stderr}`);
      assert.match(r.stdout, /^replayed \d+ steps, trace hash [0-9a-f]{16}: identical\n$/);
    }
  });

  test('replay reports a run that does not reproduce, and an unreadable file', () => {
    const edited = join(OUT, 'edited.trace');
    writeFileSync(edited, files.checkout.trace.replace('"seed": 1,', '"seed": 2,'));
    const differs = cli('replay', edited);
    assert.equal(differs.status, 1, differs.stderr);
    assert.match(differs.stderr, /^eventscope-cli: .*differs from the file at step \d+/);
    const garbage = join(OUT, 'garbage.trace');
    writeFileSync(garbage, '{"format": "eventscope-trace", "format_version": 9}');
    const newer = cli('replay', garbage);
    assert.equal(newer.status, 2);
    assert.equal(
      newer.stderr,
      `eventscope-cli: ${garbage}: made by a newer Eventscope: format version 9, this one reads up to 1\n`,
    );
  });
});
