// Config reads a binding's configuration: the JSON object plugin.json's
// config_schema describes, with its defaults applied by the host. The whole
// text is checked as JSON (RFC 8259); the top-level object's members are
// then read by name.

import { Bytes } from "./messages";

const KIND_NUMBER: u8 = 1;
const KIND_STRING: u8 = 2;
const KIND_BOOL: u8 = 3;
const KIND_NULL: u8 = 4;
const KIND_OTHER: u8 = 5; // an object or array

class Member {
  constructor(public key: string, public kind: u8, public number: f64, public text: string, public flag: bool) {}
}

/** Config is a parsed configuration object. */
export class Config {
  /** The first problem met (invalid JSON, or a member of the wrong type), or null. */
  error: string | null = null;
  private members: Member[] = [];
  private p: usize = 0;
  private end: usize = 0;

  /** Parses config; an empty config is {}. */
  static parse(config: Bytes): Config {
    const c = new Config();
    c.read(config.ptr, config.length);
    return c;
  }

  /** The number named key; def when absent or null. */
  number(key: string, def: f64): f64 {
    const m = this.member(key);
    if (m === null || m.kind == KIND_NULL) return def;
    if (m.kind != KIND_NUMBER) {
      this.wrong(key, "a number");
      return def;
    }
    return m.number;
  }

  /** The string named key; def when absent or null. */
  string(key: string, def: string): string {
    const m = this.member(key);
    if (m === null || m.kind == KIND_NULL) return def;
    if (m.kind != KIND_STRING) {
      this.wrong(key, "a string");
      return def;
    }
    return m.text;
  }

  /** The boolean named key; def when absent or null. */
  bool(key: string, def: bool): bool {
    const m = this.member(key);
    if (m === null || m.kind == KIND_NULL) return def;
    if (m.kind != KIND_BOOL) {
      this.wrong(key, "true or false");
      return def;
    }
    return m.flag;
  }

  /** Whether the object has a member named key. */
  has(key: string): bool {
    return this.member(key) !== null;
  }

  // The last member of a name wins, as in Go's encoding/json.
  private member(key: string): Member | null {
    for (let i = this.members.length - 1; i >= 0; i--) {
      if (this.members[i].key == key) return this.members[i];
    }
    return null;
  }

  private wrong(key: string, want: string): void {
    if (this.error === null) this.error = "\"" + key + "\" must be " + want;
  }

  private fail(what: string): void {
    if (this.error === null) this.error = what;
    this.p = this.end;
  }

  private read(ptr: usize, n: usize): void {
    if (n == 0) return;
    this.p = ptr;
    this.end = ptr + n;
    this.space();
    if (this.word("null")) {
      this.space();
      if (this.p != this.end) this.fail("trailing data after the JSON value");
      return;
    }
    if (this.peek() != 0x7b) return this.fail("want a JSON object");
    this.p++;
    this.space();
    if (this.peek() == 0x7d) {
      this.p++;
    } else {
      while (true) {
        if (this.peek() != 0x22) return this.fail("want a string key");
        const key = this.str();
        if (this.error !== null) return;
        this.space();
        if (this.peek() != 0x3a) return this.fail("want ':' after a key");
        this.p++;
        this.space();
        const c = this.peek();
        if (c == 0x22) {
          const s = this.str();
          if (this.error !== null) return;
          this.members.push(new Member(key, KIND_STRING, 0, s, false));
        } else if (c == 0x2d || isDigit(c)) {
          const v = this.num();
          if (this.error !== null) return;
          this.members.push(new Member(key, KIND_NUMBER, v, "", false));
        } else if (this.word("true")) {
          this.members.push(new Member(key, KIND_BOOL, 0, "", true));
        } else if (this.word("false")) {
          this.members.push(new Member(key, KIND_BOOL, 0, "", false));
        } else if (this.word("null")) {
          this.members.push(new Member(key, KIND_NULL, 0, "", false));
        } else {
          if (!this.value(0)) return;
          this.members.push(new Member(key, KIND_OTHER, 0, "", false));
        }
        this.space();
        const d = this.peek();
        this.p++;
        if (d == 0x7d) break;
        if (d != 0x2c) return this.fail("want ',' or '}' in the object");
        this.space();
      }
    }
    this.space();
    if (this.p != this.end) this.fail("trailing data after the JSON value");
  }

  private peek(): i32 {
    return this.p < this.end ? <i32>load<u8>(this.p) : -1;
  }

  private space(): void {
    while (this.p < this.end) {
      const c = load<u8>(this.p);
      if (c != 0x20 && c != 0x09 && c != 0x0a && c != 0x0d) return;
      this.p++;
    }
  }

  private word(w: string): bool {
    const n = <usize>w.length;
    if (this.end - this.p < n) return false;
    for (let i: usize = 0; i < n; i++) {
      if (<i32>load<u8>(this.p + i) != w.charCodeAt(<i32>i)) return false;
    }
    this.p += n;
    return true;
  }

  // str reads a string whose opening quote is at p, decoding its escapes.
  private str(): string {
    this.p++;
    let out = "";
    let run = this.p;
    while (this.p < this.end) {
      const c = load<u8>(this.p);
      if (c == 0x22) {
        out += String.UTF8.decodeUnsafe(run, this.p - run, false);
        this.p++;
        return out;
      }
      if (c < 0x20) break;
      if (c != 0x5c) {
        this.p++;
        continue;
      }
      out += String.UTF8.decodeUnsafe(run, this.p - run, false);
      this.p++;
      if (this.p >= this.end) break;
      const e = load<u8>(this.p++);
      if (e == 0x22 || e == 0x5c || e == 0x2f) out += String.fromCharCode(e);
      else if (e == 0x62) out += "\b";
      else if (e == 0x66) out += "\f";
      else if (e == 0x6e) out += "\n";
      else if (e == 0x72) out += "\r";
      else if (e == 0x74) out += "\t";
      else if (e == 0x75) {
        let u = 0;
        for (let i = 0; i < 4; i++) {
          const h = this.peek();
          const d = h >= 0x30 && h <= 0x39 ? h - 0x30 : h >= 0x61 && h <= 0x66 ? h - 0x57 : h >= 0x41 && h <= 0x46 ? h - 0x37 : -1;
          if (d < 0) {
            this.fail("invalid \\u escape in a string");
            return "";
          }
          u = u * 16 + d;
          this.p++;
        }
        out += String.fromCharCode(u);
      } else break;
      run = this.p;
    }
    this.fail("unterminated or invalid string");
    return "";
  }

  // num reads a JSON number. Up to 19 significant digits are kept; when
  // they fit 53 bits and the power of ten is at most 22, one exact
  // multiplication or division gives the correctly rounded double (every
  // setting a person types); beyond that the result may be off by an ulp.
  private num(): f64 {
    let negative = false;
    if (this.peek() == 0x2d) {
      negative = true;
      this.p++;
    }
    let mantissa: u64 = 0;
    let significant = 0;
    let exp10: i64 = 0;
    let exact = true;
    let c = this.peek();
    if (c == 0x30) {
      this.p++;
    } else if (c >= 0x31 && c <= 0x39) {
      while (isDigit((c = this.peek()))) {
        if (significant < 19) {
          mantissa = mantissa * 10 + <u64>(c - 0x30);
          significant++;
        } else {
          exp10++;
          if (c != 0x30) exact = false;
        }
        this.p++;
      }
    } else {
      this.fail("invalid number");
      return 0;
    }
    if (this.peek() == 0x2e) {
      this.p++;
      if (!isDigit(this.peek())) {
        this.fail("invalid number");
        return 0;
      }
      while (isDigit((c = this.peek()))) {
        if (significant < 19) {
          mantissa = mantissa * 10 + <u64>(c - 0x30);
          if (mantissa != 0) significant++;
          exp10--;
        } else if (c != 0x30) {
          exact = false;
        }
        this.p++;
      }
    }
    c = this.peek();
    if (c == 0x65 || c == 0x45) {
      this.p++;
      let sign: i64 = 1;
      c = this.peek();
      if (c == 0x2b || c == 0x2d) {
        if (c == 0x2d) sign = -1;
        this.p++;
      }
      if (!isDigit(this.peek())) {
        this.fail("invalid number");
        return 0;
      }
      let e: i64 = 0;
      while (isDigit((c = this.peek()))) {
        if (e < 100000) e = e * 10 + <i64>(c - 0x30);
        this.p++;
      }
      exp10 += sign * e;
    }
    let v: f64 = 0;
    if (mantissa != 0) {
      if (exact && mantissa <= (<u64>1) << 53 && exp10 >= -22 && exp10 <= 22) {
        v = exp10 >= 0 ? <f64>mantissa * pow10(<i32>exp10) : <f64>mantissa / pow10(<i32>-exp10);
      } else {
        v = <f64>mantissa * Math.pow(10, <f64>exp10);
      }
    }
    if (!isFinite(v)) {
      this.fail("number out of range");
      return 0;
    }
    return negative ? -v : v;
  }

  // value skips any JSON value.
  private value(depth: i32): bool {
    if (depth > 64) {
      this.fail("nested too deeply");
      return false;
    }
    const c = this.peek();
    if (c == 0x22) {
      this.str();
      return this.error === null;
    }
    if (c == 0x2d || isDigit(c)) {
      this.num();
      return this.error === null;
    }
    if (this.word("true") || this.word("false") || this.word("null")) return true;
    const object = c == 0x7b;
    if (!object && c != 0x5b) {
      this.fail("invalid JSON");
      return false;
    }
    const close = object ? 0x7d : 0x5d;
    this.p++;
    this.space();
    if (this.peek() == close) {
      this.p++;
      return true;
    }
    while (true) {
      if (object) {
        if (this.peek() != 0x22) {
          this.fail("invalid object");
          return false;
        }
        this.str();
        if (this.error !== null) return false;
        this.space();
        if (this.peek() != 0x3a) {
          this.fail("invalid object");
          return false;
        }
        this.p++;
        this.space();
      }
      if (!this.value(depth + 1)) return false;
      this.space();
      const d = this.peek();
      this.p++;
      if (d == close) return true;
      if (d != 0x2c) {
        this.fail("invalid JSON");
        return false;
      }
      this.space();
    }
    return false;
  }
}

function isDigit(c: i32): bool {
  return c >= 0x30 && c <= 0x39;
}

function pow10(k: i32): f64 {
  let v: f64 = 1;
  for (let i = 0; i < k; i++) v *= 10; // exact up to 1e22
  return v;
}
