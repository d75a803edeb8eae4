import { Module, type Type } from '@nestjs/common';
import { ApolloDriver, type ApolloDriverConfig } from '@nestjs/apollo';
import { GraphQLModule } from '@nestjs/graphql';
import { OboModule, type OboModuleOptions } from 'nestjs-obo';
import { listen, type ApiUnderTest } from './api-under-test.js';

/**
 * A Nest app serving GraphQL (Apollo, code first) at /graphql, protected by OboModule's global
 * guards. `preserveHttpStatusForExecutionErrors: false` lets Apollo put a refused field's
 * `extensions.http.status` on the HTTP answer (the driver's default resets it to 200).
 */
export async function startGraphQLApi(options: OboModuleOptions, resolvers: Type[], driver: Partial<ApolloDriverConfig> = {}): Promise<ApiUnderTest> {
  @Module({
    imports: [
      OboModule.forRoot(options),
      GraphQLModule.forRoot<ApolloDriverConfig>({
        driver: ApolloDriver,
        autoSchemaFile: true,
        graphiql: false,
        includeStacktraceInErrorResponses: false,
        preserveHttpStatusForExecutionErrors: false,
        ...driver,
      }),
    ],
    providers: resolvers,
  })
  class GraphQLAppModule {}
  return listen(GraphQLAppModule);
}

/** One GraphQL error as it arrives. */
export interface GraphQLErrorJson {
  message: string;
  path?: string[];
  extensions?: Record<string, unknown>;
}

/** A GraphQL answer: the HTTP status and headers, the raw text and the parsed body. */
export interface GraphQLReply {
  status: number;
  headers: Headers;
  text: string;
  body: { data?: Record<string, unknown> | null; errors?: GraphQLErrorJson[] };
}

/** POSTs `query` to `<url>/graphql` as JSON, with a bearer token when given. */
export async function graphql(url: string, query: string, token?: string): Promise<GraphQLReply> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (token !== undefined) headers.authorization = `Bearer ${token}`;
  const res = await fetch(`${url}/graphql`, { method: 'POST', headers, body: JSON.stringify({ query }) });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, body: JSON.parse(text) as GraphQLReply['body'] };
}
