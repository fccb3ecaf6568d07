// STUB: entity definitions being written (owner: lead).
export const entities: never[] = [];
