import { fastifyApp } from './apps.js';
import { testTrigger } from './suite.js';

testTrigger('Fastify 5', fastifyApp);
