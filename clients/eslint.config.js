// graphql-eslint as a client team runs it: schema-recommended and the Relay rules on the
// schema, operations-recommended on the documented operations (build/ is filled by
// scripts/documents.mjs). Every rule changed from its preset is listed here with the reason.
import graphql from '@graphql-eslint/eslint-plugin';

const schema = './build/schema.graphql';

export default [
  {
    files: ['build/schema.graphql'],
    languageOptions: { parser: graphql.parser, parserOptions: { graphQLConfig: { schema } } },
    plugins: { '@graphql-eslint': graphql },
    rules: {
      ...graphql.configs['flat/schema-recommended'].rules,
      ...graphql.configs['flat/schema-relay'].rules,
      // Every object type with identity has `id: ID!` and implements Node. The exceptions are
      // the root types, Relay's own (connections, edges, PageInfo), mutation payloads, and
      // value objects computed for their parent (figures, eligibility, coverage, score
      // items, error documentation): they have no identity of their own, and Relay stores
      // them inside the record of the object they belong to.
      '@graphql-eslint/strict-id-in-types': [
        'error',
        {
          acceptedIdNames: ['id'],
          acceptedIdTypes: ['ID'],
          exceptions: {
            types: [
              // Audit rows are records read in a log, never refetched or updated: no Node id.
              'AuditChange', 'AuditEntry',
              'AssessmentFigures', 'AssessmentItem', 'CategoryCount', 'CommunityCoverage', 'DutyRecordCount',
              'EligibilityOverride', 'ErrorExtensions', 'ErrorProblem', 'ImportCell', 'ImportError', 'ImportNotice', 'ImportRow',
              'ImportReport', 'IgnoredColumn', 'LeadEligibility', 'LetterFigures', 'LetterTracking', 'LoginPayload',
              'MeetingCompliance', 'MeetingQuarter', 'OpenProblems', 'Overview', 'PlanExecution',
              'Recommendation', 'ScoreBand', 'ScoreChange', 'ScoreSuggestion', 'ScorecardVerification', 'ScoringRule', 'SkippedSheet', 'SpecialtyCoverage',
              'StreetCoverage', 'StreetFigures', 'SubmittedLetter', 'UnmetCriterion',
            ],
            suffixes: ['Connection', 'Edge', 'Payload', 'PageInfo'],
          },
        },
      ],
      // Two connections page computed rows rather than objects: `streetCoverage` (a street's
      // coverage on a day) and `suggestAssessmentScores` (an item's suggested score). Their
      // nodes have no identity, so they cannot implement Node; everything else the rule
      // checks (Edge suffix, node and cursor fields) stays on.
      '@graphql-eslint/relay-edge-types': [
        'error',
        { withEdgeSuffix: true, shouldImplementNode: false, listTypeCanWrapOnlyEdgeType: false },
      ],
      // `ErrorCode`, `ErrorExtensions` and `ErrorProblem` document `errors[].extensions` for
      // code generators and are deliberately returned by no field. No other type can be
      // unreachable: async-graphql drops every type no field reaches before it prints the SDL
      // (only types registered by hand, these three, survive).
      '@graphql-eslint/no-unreachable-types': 'off',
      // `User.username` is a fixed name of the contract (API.md: `login { user { username } }`).
      '@graphql-eslint/no-typename-prefix': 'off',
      // Descriptions: the preset asks them of every type and root field (`types`,
      // `rootField`). `npm run lint:descriptions` asks them of every field, argument, input
      // field and enum value too (DESCRIBE_ALL=1); CI runs the preset until all are written.
      '@graphql-eslint/require-description': [
        'error',
        process.env.DESCRIBE_ALL
          ? {
              types: true,
              rootField: true,
              DirectiveDefinition: true,
              FieldDefinition: true,
              InputValueDefinition: true,
              EnumValueDefinition: true,
            }
          : { types: true, rootField: true, DirectiveDefinition: true },
      ],
    },
  },
  {
    files: ['build/documents/*.graphql'],
    languageOptions: {
      parser: graphql.parser,
      parserOptions: { graphQLConfig: { schema, documents: ['build/documents/*.graphql'] } },
    },
    plugins: { '@graphql-eslint': graphql },
    rules: {
      ...graphql.configs['flat/operations-recommended'].rules,
      // Relay requires operation names to be `<Module>Query` / `<Module>Mutation`, which the
      // preset's forbiddenSuffixes would refuse; the other naming rules stay.
      '@graphql-eslint/naming-convention': [
        'error',
        {
          VariableDefinition: 'camelCase',
          OperationDefinition: { style: 'PascalCase', forbiddenPrefixes: ['Query', 'Mutation', 'Subscription', 'Get'] },
          FragmentDefinition: { style: 'PascalCase', forbiddenPrefixes: ['Fragment'], forbiddenSuffixes: ['Fragment'] },
        },
      ],
    },
  },
];
