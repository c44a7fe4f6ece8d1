// Typed engine errors. Every error carries a stable `code` the UI can switch on and an `action`
// sentence telling the user what to do next; both survive the worker boundary (see
// src/bridge/errors.ts), unlike an Error subclass's prototype.

import type { EngineErrorCode } from '../engine-api';

export class EngineError extends Error {
  readonly code: EngineErrorCode;
  readonly action: string;

  constructor(code: EngineErrorCode, message: string, action: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'EngineError';
    this.code = code;
    this.action = action;
  }
}

/** Browsers that ship WebGPU, for the message shown when `navigator.gpu` is missing. */
export const WEBGPU_BROWSERS =
  'Chrome or Edge 113+ (Windows, macOS, ChromeOS), Chrome 121+ on Android, Safari 26+, or Firefox 141+ on Windows';

export function webGpuUnavailable(): EngineError {
  return new EngineError(
    'webgpu-unavailable',
    'This browser does not expose WebGPU (navigator.gpu is missing).',
    `Open the app in ${WEBGPU_BROWSERS}. On Linux, Chrome needs --enable-unsafe-webgpu or chrome://flags/#enable-unsafe-webgpu.`,
  );
}

export function noAdapter(): EngineError {
  return new EngineError(
    'no-adapter',
    'WebGPU is present but the browser returned no GPU adapter.',
    'Update the GPU driver, check that hardware acceleration is on in the browser settings, or try another browser.',
  );
}

export function limitsTooSmall(what: string, needed: number, available: number, model: string): EngineError {
  return new EngineError(
    'limits-too-small',
    `This GPU's ${what} is ${available} but ${model} needs ${needed}.`,
    'Choose a smaller model or image size, or use a computer with a larger GPU.',
  );
}

export function shaderCompileFailed(file: string, line: number, column: number, detail: string): EngineError {
  return new EngineError(
    'shader-compile',
    `WGSL error in ${file}:${line}:${column}: ${detail}`,
    'This is a bug in the app, not in your setup: please report it with this message.',
  );
}

export function deviceLost(reason: string, detail: string): EngineError {
  return new EngineError(
    'device-lost',
    `The GPU device was lost (${reason}): ${detail}`,
    'Your story and finished images are kept. Close other GPU-heavy tabs, then press Continue to restart the engine.',
  );
}

export function outOfMemory(label: string, bytes: number, detail: string): EngineError {
  return new EngineError(
    'out-of-memory',
    `The GPU could not allocate ${formatBytes(bytes)} for "${label}": ${detail}`,
    'Choose a smaller image size or a smaller quantization, or close other GPU-heavy tabs and applications.',
  );
}

export function bindingTooLarge(kernel: string, binding: string, bytes: number, limit: number): EngineError {
  return new EngineError(
    'binding-too-large',
    `Kernel ${kernel}: binding "${binding}" is ${formatBytes(bytes)}, over this GPU's storage binding limit of ${formatBytes(limit)}.`,
    'Choose a smaller image size. If this happens at a supported size, please report it.',
  );
}

export function invalidInput(message: string, action: string): EngineError {
  return new EngineError('invalid-input', message, action);
}

/** A model file that cannot be used (wrong format, truncated, unexpected tensors or shapes). */
export function modelFileError(file: string, message: string, action: string): EngineError {
  return new EngineError('model-file', `${file}: ${message}`, action);
}

export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}
