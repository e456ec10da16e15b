// The ABI exports (sdk/ABI.md), the same three functions the Go SDK's
// sdk/wasm exports. A plugin's entry file re-exports them:
//
//   export * from "rapport-sdk/exports";
//
// Memory: the module is built with AssemblyScript's minimal runtime, whose
// garbage collector runs only when asked. It is asked at the start of
// rapport_input and rapport_call, when no AssemblyScript code is running,
// so everything the previous call allocated is reclaimed except the input
// region and the previous answer, which globals keep (ABI.md: the answer
// stays valid until the next rapport_input or rapport_call).

import { dispatch } from "./assembly/plugin";
import { Writer } from "./assembly/wire";
import { encodeError } from "./assembly/messages";

const MIN_INPUT: i32 = 64 << 10;

let input: ArrayBuffer = new ArrayBuffer(0);
let output: Writer = new Writer(1024);

/** Returns 1, the ABI version this package speaks. */
export function rapport_abi_version(): i32 {
  return 1;
}

/** Returns a region of at least size bytes for the host's request. */
export function rapport_input(size: i32): usize {
  if (<u32>size > <u32>input.byteLength || input.byteLength == 0) {
    // Let go of the old region first, so that its memory can be reused.
    input = new ArrayBuffer(0);
    __collect();
    // The host already asks for room to spare (ABI.md).
    input = new ArrayBuffer(size > MIN_INPUT ? size : MIN_INPUT);
  }
  return changetype<usize>(input);
}

/** Runs extension point point on the size bytes in the input region. */
export function rapport_call(point: i32, size: i32): i64 {
  __collect();
  output.reset();
  if (<u32>size > <u32>input.byteLength) {
    return answer("request larger than the input buffer");
  }
  const err = dispatch(point, input, changetype<usize>(input), <usize><u32>size, output);
  if (err !== null) return answer(err);
  return (<i64>output.ptr << 32) | <i64>output.length;
}

function answer(message: string): i64 {
  output.reset();
  encodeError(output, message);
  return (<i64>1 << 63) | (<i64>output.ptr << 32) | <i64>output.length;
}
