import type { Config } from 'jest';

const shared = {
  testEnvironment: 'node',
  resolver: '<rootDir>/test/support/jest-resolver.cjs',
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: {
    '^nestjs-obo$': '<rootDir>/libs/obo/src/index.ts',
    '^nestjs-obo/testing$': '<rootDir>/libs/obo/testing/index.ts',
    '^nestjs-obo/swagger$': '<rootDir>/libs/obo/src/observability/openapi/index.ts',
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
  transform: {
    '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: '<rootDir>/tsconfig.json', diagnostics: { ignoreCodes: [151002] } }],
  },
} satisfies Config;

const config: Config = {
  projects: [
    { ...shared, displayName: 'unit', testMatch: ['<rootDir>/libs/**/*.spec.ts', '<rootDir>/apps/**/*.spec.ts'] },
    { ...shared, displayName: 'e2e', testMatch: ['<rootDir>/test/**/*.e2e-spec.ts'] },
  ],
};

export default config;
