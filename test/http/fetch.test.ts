import { honoApp } from './apps.js';
import { testTrigger } from './suite.js';

testTrigger('Hono (fetch) on @hono/node-server', honoApp);
