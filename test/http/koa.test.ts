import { koaApp } from './apps.js';
import { testTrigger } from './suite.js';

testTrigger('Koa 3', koaApp);
