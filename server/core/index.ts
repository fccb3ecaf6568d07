export * from './access.js';
export * from './accounts.js';
export * from './chain.js';
export * from './entries.js';
export * from './errors.js';
export * from './membership.js';
export * from './money.js';
