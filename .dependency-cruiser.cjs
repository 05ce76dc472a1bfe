/**
 * Layers import downward only (kernel ← common ← domain ← exchange; cli and the platform on top),
 * modules reach each other only through their index.ts, and there are no cycles.
 */
module.exports = {
  forbidden: [
    { name: 'no-circular', severity: 'error', from: {}, to: { circular: true } },
    {
      name: 'kernel-knows-no-service',
      severity: 'error',
      from: { path: '^src/kernel/' },
      to: { path: '^src/(common|domain|exchange|cli)/|^src/(platform|seed|modules)\\.ts$' },
    },
    {
      name: 'common-knows-no-registry',
      severity: 'error',
      from: { path: '^src/common/' },
      to: { path: '^src/(domain|exchange|cli)/|^src/(platform|seed|modules)\\.ts$' },
    },
    {
      name: 'domain-below-exchange',
      severity: 'error',
      from: { path: '^src/domain/' },
      to: { path: '^src/(exchange|cli)/|^src/(platform|seed|modules)\\.ts$' },
    },
    {
      name: 'modules-meet-at-index',
      comment: 'Another module is reached only through its index.ts (or events).',
      severity: 'error',
      from: { path: '^src/(common|domain|exchange)/([^/]+)/' },
      to: {
        path: '^src/(common|domain|exchange)/([^/]+)/',
        pathNot: ['^src/$1/$2/', '^src/(common|domain|exchange)/[^/]+/index\\.ts$'],
      },
    },
    {
      name: 'outside-reaches-modules-at-index',
      severity: 'error',
      from: { path: '^src/(cli/|platform\\.ts|seed\\.ts|modules\\.ts)' },
      to: { path: '^src/(common|domain|exchange)/[^/]+/', pathNot: '^src/(common|domain|exchange)/[^/]+/index\\.ts$' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '\\.test\\.ts$' },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
};
