"""Which DICOM attributes identify a patient (protected health information).

Used by the inspector (hidden until the user reveals them) and by exports (removed). The list
follows the DICOM PS3.15 Annex E basic de-identification profile for the attributes that name or
locate a person, an institution or a date; every Person Name (VR "PN") counts as well.
"""

from __future__ import annotations

PHI_KEYWORDS = frozenset({
    # the patient
    "PatientName", "PatientID", "IssuerOfPatientID", "OtherPatientIDs", "OtherPatientIDsSequence",
    "OtherPatientNames", "PatientBirthName", "PatientMotherBirthName", "PatientBirthDate",
    "PatientBirthTime", "PatientAddress", "PatientTelephoneNumbers", "PatientInsurancePlanCodeSequence",
    "MedicalRecordLocator", "MilitaryRank", "BranchOfService", "CountryOfResidence", "RegionOfResidence",
    "PatientComments", "AdditionalPatientHistory", "Occupation", "ResponsiblePerson",
    "ResponsibleOrganization", "PatientReligiousPreference", "MedicalAlerts", "Allergies",
    "EthnicGroup", "PatientAge", "PatientSex", "PatientSize", "PatientWeight",
    # people and places
    "ReferringPhysicianName", "ReferringPhysicianAddress", "ReferringPhysicianTelephoneNumbers",
    "PerformingPhysicianName", "NameOfPhysiciansReadingStudy", "PhysiciansOfRecord",
    "RequestingPhysician", "OperatorsName", "InstitutionName", "InstitutionAddress",
    "InstitutionalDepartmentName", "StationName", "DeviceSerialNumber",
    # the visit
    "AccessionNumber", "StudyID", "StudyDate", "SeriesDate", "AcquisitionDate", "ContentDate",
    "StudyTime", "SeriesTime", "AcquisitionTime", "ContentTime", "AcquisitionDateTime",
    "InstanceCreationDate", "InstanceCreationTime", "StudyDescription", "RequestAttributesSequence",
    "AdmissionID", "RequestedProcedureID", "PerformedProcedureStepID", "ScheduledProcedureStepID",
})


def is_phi(keyword: str, vr: str | None = None) -> bool:
    """True for an attribute that can identify a patient (listed above, or any person name)."""
    return keyword in PHI_KEYWORDS or vr == "PN"


def strip_phi(ds, pseudonym: str = "ANONYMOUS") -> None:
    """Remove identifying attributes and private tags from a pydicom Dataset, in place.

    PatientName and PatientID are kept (type 2 in most IODs) but set to `pseudonym`.
    """
    ds.remove_private_tags()

    def walk(dataset):
        for elem in list(dataset):
            if elem.VR == "SQ":
                if is_phi(elem.keyword, elem.VR):
                    del dataset[elem.tag]
                    continue
                for item in elem.value:
                    walk(item)
            elif is_phi(elem.keyword, elem.VR):
                del dataset[elem.tag]

    walk(ds)
    ds.PatientName = pseudonym
    ds.PatientID = pseudonym
    ds.PatientIdentityRemoved = "YES"
