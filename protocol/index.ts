export * from './backoff.ts';
export * from './clock.ts';
export * from './decode.ts';
export * from './schemas.ts';
export * from './topics.ts';
