/**
 * True when any object in a JSON text repeats a member name (RFC 7515 §4 / RFC 7519 §4 allow
 * rejecting such documents; we do, so no parser in the request path can read another value).
 * The text must already be valid JSON. Escaped forms of one name count as the same name.
 */
export function hasDuplicateMemberNames(json: string): boolean {
  const stack: Array<Set<string> | null> = []; // a Set per open object, null per open array
  let expectKey = false;
  for (let i = 0; i < json.length; i++) {
    const c = json.charCodeAt(i);
    if (c === 0x22 /* " */) {
      const start = i;
      for (i++; json.charCodeAt(i) !== 0x22; i++) if (json.charCodeAt(i) === 0x5c /* \ */) i++;
      const keys = stack[stack.length - 1];
      if (expectKey && keys) {
        const name = JSON.parse(json.slice(start, i + 1)) as string;
        if (keys.has(name)) return true;
        keys.add(name);
        expectKey = false;
      }
    } else if (c === 0x7b /* { */) {
      stack.push(new Set());
      expectKey = true;
    } else if (c === 0x5b /* [ */) {
      stack.push(null);
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      stack.pop();
    } else if (c === 0x2c /* , */) {
      expectKey = stack[stack.length - 1] != null;
    }
  }
  return false;
}
