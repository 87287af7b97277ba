//! The part plan of a multipart upload: how a file of a given size is cut into S3 parts. The
//! signer plans (and states the plan in the upload token); the page cuts the file by the same
//! numbers, so both run this code.
//!
//! S3's limits: at most 10,000 parts; every part 5 MiB to 5 GiB, except the last, which may be
//! smaller; an object of at most 5 TiB. All parts but the last have the plan's `part_size`.

use serde::{Deserialize, Serialize};

pub const MIB: u64 = 1024 * 1024;
/// The smallest part S3 accepts (but for the last).
pub const MIN_PART_BYTES: u64 = 5 * MIB;
/// The largest part S3 accepts.
pub const MAX_PART_BYTES: u64 = 5 * 1024 * MIB;
pub const MAX_PARTS: u64 = 10_000;
/// The largest object S3 stores.
pub const MAX_OBJECT_BYTES: u64 = 5 * 1024 * 1024 * MIB;
/// The part size when the file is small enough for it: a few seconds of a laptop's upload, so a
/// failed part costs little, and few enough requests that signing them is cheap.
pub const DEFAULT_PART_BYTES: u64 = 8 * MIB;

/// How one file is cut into parts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PartPlan {
    /// The file's size in bytes.
    pub size: u64,
    /// The size of every part but the last.
    pub part_size: u64,
    /// How many parts (1 to 10,000).
    pub parts: u32,
}

impl PartPlan {
    /// The plan for `size` bytes: parts of [`DEFAULT_PART_BYTES`], or larger (a whole number of
    /// MiB) when the file would otherwise need more than 10,000. `None` for 0 bytes or more than
    /// S3's largest object.
    pub fn for_size(size: u64) -> Option<PartPlan> {
        if size == 0 || size > MAX_OBJECT_BYTES {
            return None;
        }
        let needed = size.div_ceil(MAX_PARTS).div_ceil(MIB) * MIB;
        let part_size = needed.max(DEFAULT_PART_BYTES);
        let parts = size.div_ceil(part_size);
        Some(PartPlan {
            size,
            part_size,
            parts: u32::try_from(parts).ok()?,
        })
    }

    /// Whether a plan (from a token, say) is one S3 accepts for its size and [`PartPlan::for_size`]
    /// would make.
    pub fn is_valid(&self) -> bool {
        PartPlan::for_size(self.size) == Some(*self)
    }

    /// Part `number` (1-based) as `(offset, length)` in the file; `None` outside the plan.
    pub fn part(&self, number: u32) -> Option<(u64, u64)> {
        if number == 0 || number > self.parts {
            return None;
        }
        let offset = u64::from(number - 1) * self.part_size;
        Some((offset, self.part_size.min(self.size - offset)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn check(plan: PartPlan) -> Result<(), TestCaseError> {
        prop_assert!(
            plan.parts >= 1 && u64::from(plan.parts) <= MAX_PARTS,
            "{plan:?}"
        );
        prop_assert!(plan.part_size >= MIN_PART_BYTES && plan.part_size <= MAX_PART_BYTES);
        prop_assert_eq!(plan.part_size % MIB, 0);
        let mut total = 0u64;
        for number in 1..=plan.parts {
            let (offset, length) = plan.part(number).unwrap();
            prop_assert_eq!(offset, total);
            prop_assert!(length >= 1 && length <= plan.part_size);
            if number < plan.parts {
                prop_assert_eq!(length, plan.part_size);
            }
            total += length;
            // Only check the ends of long plans: the middle is the same arithmetic.
            if plan.parts > 64 && number == 32 {
                let last = plan.parts - 31;
                total = u64::from(last - 1) * plan.part_size;
                return check_tail(plan, last, total);
            }
        }
        prop_assert_eq!(total, plan.size);
        prop_assert_eq!(plan.part(0), None);
        prop_assert_eq!(plan.part(plan.parts + 1), None);
        Ok(())
    }

    fn check_tail(plan: PartPlan, from: u32, mut total: u64) -> Result<(), TestCaseError> {
        for number in from..=plan.parts {
            let (offset, length) = plan.part(number).unwrap();
            prop_assert_eq!(offset, total);
            total += length;
        }
        prop_assert_eq!(total, plan.size);
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

        #[test]
        fn every_size_gets_a_plan_s3_accepts(size in prop_oneof![
            1u64..=64 * MIB,
            1u64..=MAX_OBJECT_BYTES,
            (MAX_PARTS * DEFAULT_PART_BYTES - 4096)..=(MAX_PARTS * DEFAULT_PART_BYTES + 4096),
            (MAX_OBJECT_BYTES - 4096)..=MAX_OBJECT_BYTES,
        ]) {
            let plan = PartPlan::for_size(size).unwrap();
            prop_assert_eq!(plan.size, size);
            prop_assert!(plan.is_valid());
            check(plan)?;
        }
    }

    #[test]
    fn edges() {
        assert_eq!(PartPlan::for_size(0), None);
        assert_eq!(PartPlan::for_size(MAX_OBJECT_BYTES + 1), None);
        assert_eq!(
            PartPlan::for_size(1),
            Some(PartPlan {
                size: 1,
                part_size: DEFAULT_PART_BYTES,
                parts: 1
            })
        );
        let gib = PartPlan::for_size(1024 * MIB).unwrap();
        assert_eq!((gib.part_size, gib.parts), (DEFAULT_PART_BYTES, 128));
        let largest = PartPlan::for_size(MAX_OBJECT_BYTES).unwrap();
        assert!(
            largest.parts <= 10_000 && largest.parts > 9_900,
            "{largest:?}"
        );
        assert!(largest.part_size <= MAX_PART_BYTES);
        // A plan someone changed is not valid.
        let tampered = PartPlan {
            part_size: MIB,
            ..gib
        };
        assert!(!tampered.is_valid());
        assert_eq!(
            gib.part(128),
            Some((127 * DEFAULT_PART_BYTES, DEFAULT_PART_BYTES))
        );
    }

    #[test]
    fn the_json_is_pinned() {
        let plan = PartPlan::for_size(20 * MIB + 1).unwrap();
        assert_eq!(
            serde_json::to_string(&plan).unwrap(),
            r#"{"size":20971521,"partSize":8388608,"parts":3}"#
        );
    }
}
