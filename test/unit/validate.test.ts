// The validation helpers: problems that name the field by its path, JSON text that says where it
// is broken, web addresses the app may fetch.

import * as v from 'valibot';
import { describe, expect, it } from 'vitest';
import { check, describeProblems, integerIn, listOf, parseJsonText, shown, webAddress } from '../../src/schema/validate';

const problems = (schema: v.GenericSchema, input: unknown) => {
  const result = check(schema, input);
  return result.ok ? [] : result.problems;
};

describe('check', () => {
  const schema = v.strictObject({ size: integerIn(1, 10), inner: v.strictObject({ flag: v.boolean() }) });

  it('names a missing field as missing, not as "undefined"', () => {
    expect(problems(schema, { inner: { flag: true } })).toEqual([{ path: 'size', message: 'is missing' }]);
    expect(problems(schema, { size: 3, inner: {} })).toEqual([{ path: 'inner.flag', message: 'is missing' }]);
  });

  it('says an object is expected in the words of the others', () => {
    expect(problems(schema, { size: 3, inner: 'yes' })).toEqual([{ path: 'inner', message: 'must be an object, got "yes"' }]);
    expect(problems(schema, undefined)).toEqual([{ path: '', message: 'must be an object, got nothing' }]);
  });

  it('refuses unknown keys by their path, __proto__ and constructor included', () => {
    const input = JSON.parse('{"size": 3, "inner": {"flag": true, "__proto__": {"x": 1}}, "constructor": 1}');
    expect(problems(schema, input).map((problem) => problem.path).sort()).toEqual(['constructor', 'inner.__proto__']);
  });

  it('refuses strings, NaN and fractions where whole numbers belong', () => {
    expect(problems(schema, { size: '3', inner: { flag: true } })[0].message).toBe('must be a number, got "3"');
    expect(problems(schema, { size: NaN, inner: { flag: true } })[0].message).toBe('must be a number, got NaN');
    expect(problems(schema, { size: Infinity, inner: { flag: true } })[0].message).toBe('must be a finite number, got Infinity');
    expect(problems(schema, { size: 2.5, inner: { flag: true } })[0].message).toBe('must be a whole number, got 2.5');
    expect(problems(schema, { size: 1e9, inner: { flag: true } })[0].message).toBe('must be at most 10, got 1000000000');
  });
});

describe('describeProblems', () => {
  it('gives the first three problems in one line and counts the rest', () => {
    const many = ['a', 'b', 'c', 'd', 'e'].map((path) => ({ path, message: 'is missing' }));
    expect(describeProblems(many)).toBe('a: is missing; b: is missing; c: is missing (and 2 more)');
    expect(describeProblems([{ path: '', message: 'not valid JSON' }])).toBe('not valid JSON');
  });
});

describe('shown', () => {
  it('shows values briefly, never as JavaScript internals', () => {
    expect([shown('x'.repeat(50)), shown(undefined), shown(null), shown([1]), shown({}), shown(NaN)]).toEqual([`"${'x'.repeat(40)}…"`, 'nothing', 'null', 'a list', 'an object', 'NaN']);
  });
});

describe('parseJsonText', () => {
  const where = (text: string) => {
    const result = parseJsonText(text);
    return result.ok ? 'valid' : result.problems[0].message;
  };

  it.each([
    ['{"a": }', 'line 1, column 7: expected a value, found "}"'],
    ['{\n  "a": 1,\n  "b": [1, 2\n', 'line 4, column 1: expected "," or "]", found the end of the text'],
    ['', 'line 1, column 1: expected a value, found the end of the text'],
    ['{"a": 1,}', 'line 1, column 9: expected a field name in double quotes, found "}"'],
    ["{'a': 1}", `line 1, column 2: expected a field name in double quotes, found "'"`],
    ['{"a": 01}', 'line 1, column 8: expected "," or "}", found "1"'],
    ['{"a": NaN}', 'line 1, column 7: expected a value, found "N"'],
    ['{"a": "x\ny"}', 'line 1, column 9: expected text without control characters (write \\n for a new line), found a control character (code 10)'],
    ['{"a": "\\q"}', 'line 1, column 8: expected an escape such as \\n, \\" or \\u00e9, found "\\\\"'],
    ['{"a": 1} {"b": 2}', 'line 1, column 10: expected the end of the text, found "{"'],
    ['[[[[[[', 'line 1, column 7: expected a value, found the end of the text'],
  ])('%j: says where and what', (text, message) => {
    expect(where(text)).toBe(`not valid JSON (${message})`);
  });

  it('reads valid JSON, with a byte-order mark too, and deep nesting without a stack overflow', () => {
    expect(parseJsonText('\ufeff{"a": [1, {"b": null}]}')).toEqual({ ok: true, value: { a: [1, { b: null }] } });
    expect(where(`${'['.repeat(200_000)}1`)).toMatch(/^not valid JSON \(line 1, column 200002: expected "," or "\]"/);
  });
});

describe('webAddress', () => {
  it.each(['https://example.com/a.gguf', 'http://127.0.0.1:8080/x', 'models/ae.safetensors', '/models/x.json', '../x.json'])('accepts %s', (url) => {
    expect(problems(webAddress(100), url)).toEqual([]);
  });

  it.each([
    ['javascript:alert(1)', /must be an http\(s\) address or a relative one/],
    ['data:text/plain,x', /http\(s\)/],
    ['file:///etc/passwd', /http\(s\)/],
    ['https:///nohost', /http\(s\)/],
    ['a b.json', /spaces or control characters/],
    ['', /is empty/],
  ])('refuses %j', (url, message) => {
    expect(problems(webAddress(100), url)[0].message).toMatch(message);
  });
});

describe('listOf', () => {
  const list = listOf(integerIn(0, 9), 1, 3, 'digits');

  it('checks the count before the items, and names a wrong item by its index', () => {
    expect(problems(list, Array(1_000_000).fill('x'))).toEqual([{ path: '', message: 'has 1000000 digits; at most 3' }]);
    expect(problems(list, [])).toEqual([{ path: '', message: 'needs at least 1 digits' }]);
    expect(problems(list, [1, 'x'])).toEqual([{ path: '[1]', message: 'must be a number, got "x"' }]);
    expect(check(list, [1, 2])).toEqual({ ok: true, value: [1, 2] });
  });
});
