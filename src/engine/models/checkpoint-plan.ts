// From the tensor list of a checkpoint whose file tensors map one to one onto canonical tensors
// (the T5 and CLIP text encoders) to a plan: the config inferred from shapes and, per canonical
// tensor, the file tensor holding it. Everything is validated before a byte of data is read.

import { modelFileError } from '../errors';
import type { FileTensor } from './model-file';

/** Shapes in PyTorch order ([out, in] for weights) by canonical name. */
export type ShapeOf = (canonical: string) => readonly number[] | undefined;

export interface ModelDescription<Config> {
  /** e.g. "T5 encoder", for messages */
  model: string;
  /** what a user should do with a file that is not this model */
  action: string;
  /** canonical name of a file tensor, or undefined for tensors that are not part of the model */
  canonicalName(name: string): string | undefined;
  inferConfig(shapeOf: ShapeOf, fileName: string): Config;
  /** every canonical tensor of the model with its shape */
  tensorShapes(config: Config): Map<string, readonly number[]>;
}

export interface CheckpointPlan<Config> {
  config: Config;
  /** canonical name → the file tensor holding it */
  tensors: Map<string, FileTensor>;
  /** file tensors that are not part of the model, or tied copies of one that is (not loaded) */
  ignored: string[];
}

export function planCheckpoint<Config>(fileName: string, fileTensors: readonly FileTensor[], model: ModelDescription<Config>): CheckpointPlan<Config> {
  const tensors = new Map<string, FileTensor>();
  const ignored: string[] = [];
  for (const file of fileTensors) {
    const canonical = model.canonicalName(file.name);
    const earlier = canonical === undefined ? undefined : tensors.get(canonical);
    if (canonical === undefined || (earlier && isTiedCopy(earlier, file))) {
      ignored.push(file.name);
    } else if (earlier) {
      throw modelFileError(fileName, `tensor ${canonical} appears twice, as ${earlier.name} and as ${file.name}, with different shapes or types`, model.action);
    } else {
      tensors.set(canonical, file);
    }
  }
  const config = model.inferConfig((name) => tensors.get(name)?.shape, fileName);
  checkShapes(fileName, model, model.tensorShapes(config), tensors);
  return { config, tensors, ignored };
}

/** The same tensor saved under two names (T5's shared and encoder.embed_tokens). */
function isTiedCopy(a: FileTensor, b: FileTensor): boolean {
  return a.type === b.type && a.shape.join() === b.shape.join();
}

type ModelWords = Pick<ModelDescription<unknown>, 'model' | 'action'>;

function checkShapes(fileName: string, model: ModelWords, expected: Map<string, readonly number[]>, tensors: Map<string, FileTensor>): void {
  for (const [name, shape] of expected) {
    const actual = tensors.get(name);
    if (!actual) throw modelFileError(fileName, `tensor ${name} is missing`, `The file is incomplete or not a ${model.model}: download it again or choose another file.`);
    if (actual.shape.join() !== shape.join()) {
      throw modelFileError(fileName, `tensor ${actual.name} has shape [${actual.shape.join(', ')}], expected [${shape.join(', ')}]`, model.action);
    }
  }
  for (const [name, tensor] of tensors) {
    if (!expected.has(name)) throw modelFileError(fileName, `unexpected tensor ${tensor.name}`, model.action);
  }
}

/** Tensors loaded into one matrix (q, k and v) must share a type. */
export function requireSharedType(fileName: string, tensors: readonly FileTensor[], action: string): void {
  const types = tensors.map((tensor) => tensor.type);
  if (new Set(types).size > 1) {
    throw modelFileError(fileName, `${tensors.map((tensor) => tensor.name).join(', ')} are stored as ${types.join(', ')}; they load into one matrix, so they must share one type`, action);
  }
}

/** Tensors `${prefix}.N.${probe}` for N = 0, 1, … until one is missing. */
export function countBlocks(shapeOf: ShapeOf, prefix: string, probe: string): number {
  let count = 0;
  while (shapeOf(`${prefix}.${count}.${probe}`)) count++;
  return count;
}

/**
 * The shape of a canonical tensor the config is inferred from, with at least `rank` dimensions,
 * none of them 0; a model-file error otherwise (a config read from it would hold nonsense).
 */
export function requiredShape(shapeOf: ShapeOf, name: string, fileName: string, model: ModelWords, rank: number): readonly number[] {
  const shape = shapeOf(name);
  if (!shape) throw modelFileError(fileName, `tensor ${name} is missing, so this is not a ${model.model} file`, model.action);
  if (shape.length < rank || shape.includes(0)) {
    throw modelFileError(fileName, `tensor ${name} has shape [${shape.join(', ')}]; a ${model.model} needs ${rank} dimensions of at least 1 there`, model.action);
  }
  return shape;
}

/** A model-file error unless `valid`: for configs whose sizes disagree with each other or with what the engine runs. */
export function requireConsistent(valid: boolean, fileName: string, problem: () => string, model: ModelWords): void {
  if (!valid) throw modelFileError(fileName, problem(), model.action);
}
