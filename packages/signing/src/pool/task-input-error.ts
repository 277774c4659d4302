/** A task refused for its input (a damaged MAR, an entry that won't decompress, not a PE): a 4xx, not a 500. */
export class TaskInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TaskInputError';
  }
}
