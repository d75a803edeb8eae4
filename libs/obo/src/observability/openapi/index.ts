// The `nestjs-obo/swagger` entry point: OpenAPI security from the decorators. It imports
// `@nestjs/swagger` (an optional peer), so nothing under `nestjs-obo` itself may import this folder.
export { OboSwagger } from './obo-swagger.js';
export type { OboOpenApiOptions } from './obo-swagger.js';
export { OBO_SECURITY_SCHEMES } from './operation-security.js';
