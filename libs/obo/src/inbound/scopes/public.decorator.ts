import { Reflector } from '@nestjs/core';

/** @internal Metadata read by the guards. */
export const PublicMetadata = Reflector.createDecorator<true>({ key: 'obo:public' });

/** Lets a route (or controller) through without a token. Its handlers see no principal. */
export const Public = (): ClassDecorator & MethodDecorator => PublicMetadata(true);
