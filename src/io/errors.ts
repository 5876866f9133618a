/**
 * The error type of checkpoint I/O: every failure to read or write a safetensors file, a checkpoint directory or a
 * state-dict assignment is a `CheckpointError` naming the file and, where one is involved, the tensor.
 */

export class CheckpointError extends Error {
  /** File (or directory) the error concerns. */
  readonly file: string;
  /** Tensor name the error concerns, if any. */
  readonly tensor: string | undefined;

  constructor(file: string, message: string, tensor?: string) {
    super(`${file}: ${tensor !== undefined ? `tensor "${tensor}": ` : ''}${message}`);
    this.name = 'CheckpointError';
    this.file = file;
    this.tensor = tensor;
  }
}
