// Kernel registry: compiles each WGSL module once, caches pipelines per (module, entry point,
// override constants), and turns compile errors into exceptions that name the shader file and
// line, even when a kernel is assembled from several files. There is one registry per device
// (GpuRuntime.kernels): every op of every model loaded on that device shares it, so loading a
// model again, a story's next picture or the next generation compile nothing.

import { EngineError, shaderCompileFailed } from '../errors';

/** One WGSL file (or generated chunk) and the name errors should point at. */
export interface ShaderSource {
  file: string;
  code: string;
}

export interface KernelSpec {
  /** Name used in labels, errors and profiles, e.g. "linear.q4_0". */
  name: string;
  /** Concatenated in order into one module; a compile error is mapped back to its source. */
  sources: readonly ShaderSource[];
  entryPoint: string;
  /** WGSL `override` constants (workgroup sizes, tile shapes…). */
  constants?: Readonly<Record<string, number>>;
  /** Storage bindings in @binding order (0, 1, …), by name. */
  storage: readonly string[];
  /** When true, a uniform parameter block sits at @binding(storage.length). */
  params: boolean;
}

export interface Kernel {
  spec: KernelSpec;
  pipeline: GPUComputePipeline;
  layout: GPUBindGroupLayout;
}

export class KernelRegistry {
  private readonly modules = new Map<string, Promise<GPUShaderModule>>();
  private readonly kernels = new Map<string, Promise<Kernel>>();
  private readonly compiled = { modules: 0, pipelines: 0 };

  constructor(private readonly device: GPUDevice) {}

  /** Shader modules and compute pipelines created so far (cache hits excluded). */
  get creations(): Readonly<{ modules: number; pipelines: number }> {
    return { ...this.compiled };
  }

  get(spec: KernelSpec): Promise<Kernel> {
    const key = `${moduleKey(spec.sources)}|${spec.entryPoint}|${JSON.stringify(spec.constants ?? {})}`;
    let kernel = this.kernels.get(key);
    if (!kernel) {
      kernel = this.build(spec);
      this.kernels.set(key, kernel);
      // A failed build must not poison the cache for a later, fixed attempt.
      kernel.catch(() => this.kernels.delete(key));
    }
    return kernel;
  }

  private async build(spec: KernelSpec): Promise<Kernel> {
    const module = await this.module(spec.sources);
    this.compiled.pipelines++;
    this.device.pushErrorScope('validation');
    let pipeline: GPUComputePipeline;
    try {
      pipeline = await this.device.createComputePipelineAsync({
        label: spec.name,
        layout: 'auto',
        // Dawn's Node binding aborts on `constants: undefined`, so the key is left out instead.
        compute: spec.constants ? { module, entryPoint: spec.entryPoint, constants: { ...spec.constants } } : { module, entryPoint: spec.entryPoint },
      });
    } catch (error) {
      await this.device.popErrorScope();
      throw pipelineFailed(spec, error);
    }
    const scoped = await this.device.popErrorScope();
    if (scoped) throw pipelineFailed(spec, scoped);
    return { spec, pipeline, layout: pipeline.getBindGroupLayout(0) };
  }

  private module(sources: readonly ShaderSource[]): Promise<GPUShaderModule> {
    const key = moduleKey(sources);
    let module = this.modules.get(key);
    if (!module) {
      module = this.compile(sources);
      this.modules.set(key, module);
      module.catch(() => this.modules.delete(key));
    }
    return module;
  }

  private async compile(sources: readonly ShaderSource[]): Promise<GPUShaderModule> {
    const code = sources.map((source) => source.code).join('\n');
    this.compiled.modules++;
    this.device.pushErrorScope('validation');
    const module = this.device.createShaderModule({ label: sources.map((s) => s.file).join(' + '), code });
    const info = await module.getCompilationInfo();
    await this.device.popErrorScope();
    const error = info.messages.find((message) => message.type === 'error');
    if (error) {
      const { file, line } = locate(sources, error.lineNum);
      throw shaderCompileFailed(file, line, error.linePos, error.message);
    }
    return module;
  }
}

function moduleKey(sources: readonly ShaderSource[]): string {
  return sources.map((source) => `${source.file}\u0000${source.code}`).join('\u0001');
}

/** Maps a 1-based line of the concatenated module back to the file it came from. */
export function locate(sources: readonly ShaderSource[], moduleLine: number): { file: string; line: number } {
  let first = 1;
  for (const source of sources) {
    const lines = source.code.split('\n').length;
    if (moduleLine < first + lines) return { file: source.file, line: moduleLine - first + 1 };
    first += lines;
  }
  return { file: sources[sources.length - 1]?.file ?? '<empty>', line: moduleLine };
}

function pipelineFailed(spec: KernelSpec, error: unknown): EngineError {
  const detail = error instanceof Error || (typeof error === 'object' && error && 'message' in error) ? (error as { message: string }).message : String(error);
  return new EngineError(
    'shader-compile',
    `Pipeline for kernel ${spec.name} (${spec.sources.map((s) => s.file).join(', ')}, entry ${spec.entryPoint}) failed: ${detail}`,
    'This is a bug in the app or a GPU driver limit: please report it with this message.',
  );
}
