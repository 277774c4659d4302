/** Whether packages/cli/dist holds a complete build newer than every source it was made from. */
export function buildIsCurrent(): boolean;
