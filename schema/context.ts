import type { Logger } from 'pino';
import type { Principal, Services } from '../server/app/index.js';

export interface GraphQLContext {
  services: Services;
  requestId: string;
  logger: Logger;
  /** Who is asking: null for an anonymous request (no Authorization header). */
  principal: Principal | null;
}
