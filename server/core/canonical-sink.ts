/**
 * Where the canonical texts of the hash chain and of idempotency (chain.ts) are written: a string
 * (StringSink), or the UTF-8 bytes of that same string in a reused buffer (Utf8Sink), which is
 * what gets hashed. Why bytes: a hashed text was built of dozens of short strings per entry (two
 * per posted entry, a request's and a chain link's), then flattened and encoded again by the
 * hash; in a batch of 500 entries that was about a sixth of the garbage the service made.
 * Utf8Sink's bytes are exactly Node's UTF-8 encoding of the string StringSink would hold
 * (tests/core/chain-canonical and canonical-request check it), so hashes do not change.
 */

export interface CanonicalSink {
  /** Text written as it is. */
  raw(text: string): void;
  /** JSON.stringify(text). */
  json(text: string): void;
  /** One ASCII character, by its code (punctuation: no string per call). */
  char(code: number): void;
}

/** JSON.stringify(text): quoted as it is when nothing in it needs escaping. */
export function jsonString(text: string): string {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    // What JSON.stringify escapes: controls, quote, backslash, (lone) surrogates.
    if (c < 0x20 || c === 0x22 || c === 0x5c || (c >= 0xd800 && c <= 0xdfff)) return JSON.stringify(text);
  }
  return `"${text}"`;
}

export class StringSink implements CanonicalSink {
  text = '';

  raw(text: string): void {
    this.text += text;
  }

  json(text: string): void {
    this.text += jsonString(text);
  }

  char(code: number): void {
    this.text += String.fromCharCode(code);
  }
}

const encoder = new TextEncoder();

/**
 * UTF-8 bytes in a buffer that is reused (reset) and grows as needed. ASCII is copied a char at a
 * time; anything else goes through TextEncoder, which encodes as Node does for a hash of a string
 * (a lone surrogate as U+FFFD, though JSON escapes those before they get here).
 */
export class Utf8Sink implements CanonicalSink {
  private bytes = new Uint8Array(4096);
  length = 0;

  reset(): this {
    this.length = 0;
    return this;
  }

  /** The bytes written since the last reset (a view: valid until the next write). */
  view(): Uint8Array {
    return this.bytes.subarray(0, this.length);
  }

  private reserve(extra: number): void {
    const needed = this.length + extra;
    if (needed <= this.bytes.length) return;
    let size = this.bytes.length * 2;
    while (size < needed) size *= 2;
    const grown = new Uint8Array(size);
    grown.set(this.bytes.subarray(0, this.length));
    this.bytes = grown;
  }

  char(code: number): void {
    if (this.length === this.bytes.length) this.reserve(1);
    this.bytes[this.length++] = code;
  }

  raw(text: string): void {
    const n = text.length;
    this.reserve(n);
    const bytes = this.bytes;
    let o = this.length;
    for (let i = 0; i < n; i++) {
      const c = text.charCodeAt(i);
      if (c >= 0x80) {
        this.length = o;
        this.encode(i === 0 ? text : text.slice(i));
        return;
      }
      bytes[o++] = c;
    }
    this.length = o;
  }

  json(text: string): void {
    const n = text.length;
    this.reserve(n + 2);
    const bytes = this.bytes;
    const start = this.length;
    let o = start;
    bytes[o++] = 0x22;
    for (let i = 0; i < n; i++) {
      const c = text.charCodeAt(i);
      if (c < 0x20 || c === 0x22 || c === 0x5c || c >= 0x80) {
        // Escapes, or bytes of more than one byte: JSON.stringify's text, encoded.
        this.length = start;
        this.raw(JSON.stringify(text));
        return;
      }
      bytes[o++] = c;
    }
    bytes[o++] = 0x22;
    this.length = o;
  }

  private encode(text: string): void {
    // At most 3 bytes per UTF-16 unit (a surrogate pair: 4 bytes for 2 units).
    this.reserve(text.length * 3);
    const { written } = encoder.encodeInto(text, this.bytes.subarray(this.length));
    this.length += written;
  }
}
