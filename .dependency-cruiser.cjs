/**
 * The layers, enforced (`npm run lint:deps`, run by .ci/run):
 *   domain     src/domain/**   — knows no provider, no Discord, no store implementation, no HTTP library
 *   providers  src/providers/** — speak HTTP to image APIs; know no Discord
 *   discord    src/discord/**, commands/** — reach providers only through the domain's port
 *   store      src/store/**    — implements the domain's repository ports
 * and no import cycles anywhere.
 */
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'Import cycles hide start-up order and make modules impossible to read alone.',
      from: {},
      to: { circular: true, dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'domain-is-independent',
      severity: 'error',
      comment: 'The domain speaks to providers, Discord and the database through ports of its own.',
      from: { path: '^src/domain/' },
      to: {
        path: [
          '^src/(discord|kie|providers|store|media|http)/',
          '^commands/',
          '^src/(app|main|config)\\.ts$',
          'node_modules/(discord\\.js|@discordjs|undici|kysely|pg|better-sqlite3|keyv|@keyv)/',
        ],
      },
    },
    {
      name: 'discord-reaches-providers-through-the-port',
      severity: 'error',
      comment: 'Commands and Discord glue never import a provider module.',
      from: { path: '^(src/discord/|commands/)' },
      to: { path: '^src/(kie|providers)/' },
    },
    {
      name: 'providers-know-no-discord',
      severity: 'error',
      from: { path: '^src/(kie|providers)/' },
      to: { path: ['^src/discord/', '^commands/', 'node_modules/(discord\\.js|@discordjs)/'] },
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default', 'types'], extensions: ['.ts', '.js', '.d.ts'] },
  },
};
