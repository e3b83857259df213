"""The demo letter in Korean and in French (load_demo), so a visitor can switch between versions."""

KO_BODY = """\
아래 서명한 단체와 개인은 외국 자금 지원 단체법 초안이 국회 2차 독회에 오르기 전에 이를 철회할 것을
촉구합니다.

초안은 수입의 10퍼센트 이상을 해외에서 받는 모든 단체에 "외부 이익 대리인"으로 등록하고, 모든 활동을
분기마다 보고하며, 예고 없는 조사를 받아들이도록 요구합니다.[^1] 다른 나라에서 비슷한 법이 시행된 뒤
2년 안에 보건, 주거, 법률 구조 분야에서 활동하던 등록 단체의 3분의 1이 문을 닫았습니다.[^2]

벨트라나 공화국은 결사의 자유를 보호하는 시민적 및 정치적 권리에 관한 국제규약 제22조를 비준했습니다.
유엔 평화적 집회 및 결사의 자유 특별보고관은 자원을 구하고 확보하고 사용할 수 있는 능력이 그 권리의
핵심 부분이라고 밝혔습니다.[^3]

이에 우리는 다음을 요청합니다.

1. 법안을 철회하고, 앞으로 단체법을 개정할 때는 시민사회와 협의할 것
2. 합법적인 활동을 위해 국제 자금을 받았다는 이유로 어떤 단체도 불이익을 받지 않도록 할 것
3. 내년 중 특별보고관의 공식 방문을 초청할 것

우리는 이 우려를 논의하기 위해 언제든 대통령실과 만날 준비가 되어 있습니다.

[^1]: 법률안 제114/2026호 제3조, 제7조, 제12조(2026년 10월 3일 국회 공개본).
[^2]: 벨트라나 시민 공간 모니터, *대가를 헤아리다*, 연례 보고서, 14–19쪽.
[^3]: 유엔 평화적 집회 및 결사의 자유 특별보고관 보고서, UN Doc. A/HRC/23/39, 8항.
"""

FR_BODY = """\
Nous, organisations et personnes soussignées, vous demandons instamment de retirer le projet de loi
sur les associations financées par l’étranger avant sa deuxième lecture à l’Assemblée nationale.

Le projet obligerait toute association recevant plus de 10 % de ses ressources de l’étranger à
s’enregistrer comme « agent d’intérêt extérieur », à rendre compte chaque trimestre de toutes ses
activités et à accepter des inspections inopinées.[^1] Ailleurs, des lois comparables ont été suivies,
en deux ans, de la fermeture d’un tiers des associations enregistrées travaillant sur la santé, le
logement et l’aide juridique.[^2]

La République de Veltrana a ratifié le Pacte international relatif aux droits civils et politiques,
dont l’article 22 protège la liberté d’association. Le Rapporteur spécial des Nations unies sur les
droits à la liberté de réunion pacifique et d’association a affirmé que la capacité de solliciter,
d’obtenir et d’utiliser des ressources fait partie intégrante de ce droit.[^3]

Nous vous demandons donc :

1. de retirer le projet de loi et de consulter la société civile sur toute future réforme du droit
   des associations ;
2. de garantir qu’aucune association ne soit sanctionnée pour avoir reçu des financements
   internationaux destinés à des activités licites ;
3. d’inviter le Rapporteur spécial à effectuer une visite officielle au cours de l’année à venir.

Nous sommes prêts à rencontrer vos services pour discuter de ces préoccupations.

[^1]: Projet de loi n° 114/2026, articles 3, 7 et 12, tel que publié par l’Assemblée nationale
    le 3 octobre 2026.
[^2]: Veltrana Civic Space Monitor, *Counting the Cost*, rapport annuel, p. 14–19.
[^3]: Rapport du Rapporteur spécial sur les droits à la liberté de réunion pacifique et d’association,
    doc. ONU A/HRC/23/39, par. 8.
"""

TRANSLATIONS = [
    {
        "language": "ko",
        "title": "벨트라나의 시민 공간을 지켜 주십시오: 외국 자금 지원 단체법 초안을 철회하십시오",
        "subject": "제목: 외국 자금 지원 단체에 관한 법률안 제114/2026호",
        "salutation": "모렐 대통령님께",
        "body": KO_BODY,
        "closing": "드림",
    },
    {
        "language": "fr",
        "title": "Protéger l’espace civique au Veltrana : retirez le projet de loi sur les associations "
        "financées par l’étranger",
        "subject": "Objet : projet de loi n° 114/2026 sur les associations financées par l’étranger",
        "salutation": "Monsieur le Président,",
        "body": FR_BODY,
        "closing": "Veuillez agréer, Monsieur le Président, l’expression de notre haute considération.",
    },
]
