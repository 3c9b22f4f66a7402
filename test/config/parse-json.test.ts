/** @module parse-json.test — `parseJson` names the line and column of a syntax error, on one line. */
import { describe, it, expect } from "vitest";
import { parseJson } from "../../src/config/load.ts";

function errorOf(text: string): string {
  const result = parseJson(text);
  if (!("error" in result)) throw new Error(`expected ${JSON.stringify(text)} to be rejected`);
  return result.error;
}

describe("parseJson", () => {
  it("returns the parsed value of valid JSON", () => {
    expect(parseJson('{ "jobs": [ { "id": "a" } ] }')).toEqual({ value: { jobs: [{ id: "a" }] } });
    expect(parseJson("[]")).toEqual({ value: [] });
  });

  it("names the 1-based line and column of a missing comma", () => {
    const text = '{\n  "a": 1\n  "b": 2\n}';
    expect(errorOf(text)).toBe("invalid JSON at line 3, column 3: Expected ',' or '}' after property value");
  });

  it("names the line and column of a comment, which JSON does not allow", () => {
    expect(errorOf('{\n  "jobs": [],\n    // no comments\n}')).toMatch(/^invalid JSON at line 3, column 5: /);
  });

  it("counts columns from the start of the line, not of the file", () => {
    expect(errorOf('{ "a": 1,\n"b": 2,\n"c" 3 }')).toMatch(/^invalid JSON at line 3, column 5: /);
  });

  it("says the input ended when it is empty or cut short", () => {
    expect(errorOf("")).toMatch(/^invalid JSON.*end of JSON input/);
    expect(errorOf('{ "jobs": [')).toMatch(/^invalid JSON/);
  });

  it.each([
    ['{\n  "jobs": [\n    1,\n  ]\n}', "line 4, column 3"],
    ['{\n  "enabled": tru\n}', "line 2, column 17"],
  ])("names the line and column of an unexpected token in %j, on one line", (text, where) => {
    const error = errorOf(text);
    expect(error).toContain(`at ${where}`);
    expect(error).not.toContain("\n");
  });
});
