// BullMQ on the bench's own Redis with appendfsync always (lib/private-redis.js): the same
// adapter as bullmq.js, at the durability of SQLite's and PostgreSQL's defaults.
import { redisAofUrl } from '../lib/services.js';
import { openOn } from './bullmq.js';

export const open = (options) => openOn(redisAofUrl(), options);
