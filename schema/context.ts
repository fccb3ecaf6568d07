import type { Logger } from 'pino';
import type { Services } from '../server/app/index.js';

export interface GraphQLContext {
  services: Services;
  requestId: string;
  logger: Logger;
}
