// GraphiQL on this server's own endpoint: queries over POST /graphql, subscriptions over
// /graphql/ws (graphql-transport-ws). Sign in with the `login` mutation and put
// {"Authorization": "Bearer <token>"} in the Headers tab.
(function () {
  var ws = (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/graphql/ws';
  var fetcher = GraphiQL.createFetcher({ url: '/graphql', subscriptionUrl: ws });
  var root = ReactDOM.createRoot(document.getElementById('graphiql'));
  root.render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultEditorToolsVisibility: true,
      defaultQuery:
        '# 驻街规划师管理平台 API\n' +
        '# 公开查询无需登录；登录后在 Headers 中填入 {"Authorization": "Bearer <token>"}\n' +
        '{\n  streets {\n    nodes {\n      name\n      communities { name }\n    }\n  }\n}\n',
    })
  );
})();
