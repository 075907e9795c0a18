//! The `orderBy: {field, direction}` inputs of the lists a table shows. Each list sorts by
//! one column of its choice and then by the primary key (so the order is total), and its
//! cursors carry the sort (see `PageArgs::ordered`): a cursor is valid only under the order
//! it was made with.

/// Declares a list's sort field enum and its `orderBy` input.
///
/// `order_by!(Input, Field of entity_module, default Variant Direction, { Variant => Column, … })`
macro_rules! order_by {
    (
        $(#[$im:meta])* $input:ident,
        $(#[$fm:meta])* $field:ident of $m:ident,
        default $df:ident $dd:ident,
        { $( $(#[$vm:meta])* $variant:ident => $col:ident ),+ $(,)? }
    ) => {
        $(#[$fm])*
        #[derive(async_graphql::Enum, Copy, Clone, Eq, PartialEq, Debug)]
        pub enum $field {
            $( $(#[$vm])* $variant ),+
        }

        impl Default for $field {
            fn default() -> Self {
                $field::$df
            }
        }

        $(#[$im])*
        #[derive(async_graphql::InputObject, Default)]
        pub struct $input {
            /// The column sorted by; ties are broken by creation order, so pages never overlap.
            #[graphql(default)]
            pub field: $field,
            /// Ascending (default) or descending.
            #[graphql(default)]
            pub direction: $crate::graphql::scalars::SortDirection,
        }

        impl $input {
            /// The sort keys (the chosen column, then the primary key) and the cursor tag (the
            /// list's input and the order, so a cursor of another list or order is refused);
            /// without `orderBy`, the list's default order.
            pub fn resolve(
                o: Option<Self>,
            ) -> (
                [($crate::store::entities::$m::Column, sea_orm::Order); 2],
                String,
            ) {
                let (field, dir) = match o {
                    Some(o) => (o.field, o.direction),
                    None => ($field::$df, $crate::graphql::scalars::SortDirection::$dd),
                };
                let col = match field {
                    $( $field::$variant => $crate::store::entities::$m::Column::$col ),+
                };
                let order = dir.order();
                (
                    [(col, order.clone()), ($crate::store::entities::$m::Column::Id, order)],
                    format!("{}:{field:?}:{dir:?}", stringify!($input)),
                )
            }
        }
    };
}

/// Declares the sort field enum and `orderBy` input of a list sorted in memory (its rows are
/// computed, not one table's): `resolve` gives the field, whether it is descending, and the
/// cursor tag.
///
/// `order_by_in_memory!(Input, Field, default Variant Direction, { Variant, … })`
macro_rules! order_by_in_memory {
    (
        $(#[$im:meta])* $input:ident,
        $(#[$fm:meta])* $field:ident,
        default $df:ident $dd:ident,
        { $( $(#[$vm:meta])* $variant:ident ),+ $(,)? }
    ) => {
        $(#[$fm])*
        #[derive(async_graphql::Enum, Copy, Clone, Eq, PartialEq, Debug)]
        pub enum $field {
            $( $(#[$vm])* $variant ),+
        }

        impl Default for $field {
            fn default() -> Self {
                $field::$df
            }
        }

        $(#[$im])*
        #[derive(async_graphql::InputObject, Default)]
        pub struct $input {
            /// The column sorted by; ties are broken by a unique key, so pages never overlap.
            #[graphql(default)]
            pub field: $field,
            /// Ascending (default) or descending.
            #[graphql(default)]
            pub direction: $crate::graphql::scalars::SortDirection,
        }

        impl $input {
            /// The field, whether the order is descending, and the cursor tag; without
            /// `orderBy`, the list's default order.
            pub fn resolve(o: Option<Self>) -> ($field, bool, String) {
                let (field, dir) = match o {
                    Some(o) => (o.field, o.direction),
                    None => ($field::$df, $crate::graphql::scalars::SortDirection::$dd),
                };
                (
                    field,
                    dir == $crate::graphql::scalars::SortDirection::Desc,
                    format!("{}:{field:?}:{dir:?}", stringify!($input)),
                )
            }
        }
    };
}

pub(crate) use order_by;
pub(crate) use order_by_in_memory;
